#!/usr/bin/env bash
# The colorapp walkthrough, App Mesh half: a mesh, three colorteller versions behind a router, a
# front node calling them. Written in the walkthroughs' style to test trellis-cp import-cli; it
# describes the same mesh as config/examples/colorapp. Not meant to be run.
set -ex

export MESH_NAME=${MESH_NAME:-color-mesh}
SERVICES_DOMAIN="${MESH_NAME}.local"
DIR=$(cd "$(dirname "$0")"; pwd)   # not evaluated by import-cli, and never used below
export AWS_DEFAULT_REGION=us-west-2

echo "Creating mesh ${MESH_NAME}"
aws appmesh create-mesh --mesh-name "$MESH_NAME" \
    --spec '{"egressFilter": {"type": "DROP_ALL"}}'

aws ecs register-task-definition --cli-input-json file://task-definition.json >/dev/null

# The three colortellers share everything but their Cloud Map attribute.
aws appmesh create-virtual-node \
    --mesh-name $MESH_NAME \
    --virtual-node-name colorteller-red \
    --spec file://specs/colorteller-red.json
aws appmesh create-virtual-node --mesh-name $MESH_NAME --virtual-node-name colorteller-blue \
    --spec file://specs/colorteller-blue.json
cat > specs/colorteller-green.json <<EOF
{
  "listeners": [{"portMapping": {"port": 9080, "protocol": "http"},
                 "healthCheck": {"protocol": "http", "path": "/ping", "port": 9080, "healthyThreshold": 2,
                                 "unhealthyThreshold": 2, "intervalMillis": 5000, "timeoutMillis": 2000}}],
  "serviceDiscovery": {"awsCloudMap": {"namespaceName": "${SERVICES_DOMAIN}", "serviceName": "colorteller",
                                       "attributes": [{"key": "version", "value": "green"}]}}
}
EOF
aws appmesh create-virtual-node --mesh-name ${MESH_NAME} --virtual-node-name colorteller-green \
    --spec file://specs/colorteller-green.json

# An extra node that the walkthrough removes again at the end.
aws appmesh create-virtual-node --mesh-name "${MESH_NAME}" --virtual-node-name colorteller-black \
    --spec file://specs/colorteller-red.json

aws appmesh create-virtual-router --cli-input-json file://specs/colorteller-router.json

aws appmesh create-route --mesh-name "$MESH_NAME" --virtual-router-name colorteller-router \
    --route-name colorteller-route --spec file://specs/colorteller-route.json

aws appmesh create-virtual-service --mesh-name "$MESH_NAME" \
    --virtual-service-name "colorteller.${SERVICES_DOMAIN}" \
    --spec '{"provider": {"virtualRouter": {"virtualRouterName": "colorteller-router"}}}'

aws appmesh create-virtual-node --mesh-name "$MESH_NAME" --virtual-node-name front \
    --spec "{
      \"listeners\": [{\"portMapping\": {\"port\": 8080, \"protocol\": \"http\"}}],
      \"backends\": [{\"virtualService\": {\"virtualServiceName\": \"colorteller.${SERVICES_DOMAIN}\"}}],
      \"serviceDiscovery\": {\"awsCloudMap\": {\"namespaceName\": \"${SERVICES_DOMAIN}\", \"serviceName\": \"front\"}},
      \"logging\": {\"accessLog\": {\"file\": {\"path\": \"/dev/stdout\"}}}
    }" \
    --tags key=app,value=colorapp

aws appmesh describe-mesh --mesh-name "$MESH_NAME" --query mesh.status

# Shift all traffic to red (the walkthrough's canary step, in reverse).
aws appmesh update-route --mesh-name "$MESH_NAME" --virtual-router-name colorteller-router \
    --route-name colorteller-route --spec file://specs/colorteller-route-red.json

aws appmesh delete-virtual-node --mesh-name "$MESH_NAME" --virtual-node-name colorteller-black
