#!/bin/sh
# An ingress gateway in front of two color versions, in the walkthroughs' style (the "gateway"
# mesh of config/appmesh/testdata/formats). For trellis-cp import-cli's tests; not meant to be run.
MESH=gw-mesh
aws appmesh create-mesh --mesh-name $MESH

for v in 1 2; do
  echo "color-v$v"   # loops are not unrolled: the nodes are created one by one below
done

aws appmesh create-virtual-node --mesh-name $MESH --virtual-node-name color-v1 --spec \
  '{"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}],
    "serviceDiscovery": {"dns": {"hostname": "color-v1.local"}}}'
aws appmesh create-virtual-node --mesh-name $MESH --virtual-node-name color-v2 --spec \
  '{"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}],
    "serviceDiscovery": {"dns": {"hostname": "color-v2.local"}}}'

aws appmesh create-virtual-router --mesh-name $MESH --virtual-router-name color-router \
  --spec '{"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}]}'
aws appmesh create-route --cli-input-yaml file://color-split.yaml
aws appmesh create-virtual-service --mesh-name $MESH --virtual-service-name color.local \
  --spec '{"provider": {"virtualRouter": {"virtualRouterName": "color-router"}}}'

aws appmesh create-virtual-gateway --mesh-name $MESH --virtual-gateway-name ingress-gw --spec '{
  "listeners": [{"portMapping": {"port": 8080, "protocol": "http"},
                 "healthCheck": {"protocol": "http", "path": "/healthz", "healthyThreshold": 2,
                                 "unhealthyThreshold": 3, "intervalMillis": 10000, "timeoutMillis": 2000}}]}'
aws appmesh create-gateway-route --mesh-name $MESH --virtual-gateway-name ingress-gw \
  --gateway-route-name color-route \
  --spec '{"httpRoute": {"match": {"prefix": "/color"},
                         "action": {"target": {"virtualService": {"virtualServiceName": "color.local"}}}}}'
