# The gateway mesh as aws_appmesh_* resources: a virtual gateway with a gateway route to a
# virtual service, whose router splits 90/10 between two versions found by DNS.
variable "mesh" {
  default = "color-mesh"
}

variable "versions" {
  default = ["v1", "v2"]
}

resource "aws_appmesh_mesh" "gw" {
  name = var.mesh
}

resource "aws_appmesh_virtual_gateway" "ingress" {
  name      = "color-gateway"
  mesh_name = aws_appmesh_mesh.gw.name

  spec {
    listener {
      port_mapping {
        port     = 8080
        protocol = "http"
      }

      health_check {
        protocol            = "http"
        path                = "/healthz"
        port                = 8080
        healthy_threshold   = 2
        unhealthy_threshold = 3
        timeout_millis      = 5000
        interval_millis     = 10000
      }
    }
  }
}

resource "aws_appmesh_gateway_route" "color" {
  name                 = "color-gateway-route"
  mesh_name            = aws_appmesh_mesh.gw.name
  virtual_gateway_name = aws_appmesh_virtual_gateway.ingress.name

  spec {
    http_route {
      match {
        prefix = "/color"
      }

      action {
        target {
          virtual_service {
            virtual_service_name = aws_appmesh_virtual_service.color.name
          }
        }
      }
    }
  }
}

resource "aws_appmesh_virtual_service" "color" {
  name      = "color.local"
  mesh_name = aws_appmesh_mesh.gw.name

  spec {
    provider {
      virtual_router {
        virtual_router_name = aws_appmesh_virtual_router.color.name
      }
    }
  }
}

resource "aws_appmesh_virtual_router" "color" {
  name      = "color-router"
  mesh_name = aws_appmesh_mesh.gw.name

  spec {
    listener {
      port_mapping {
        port     = 9080
        protocol = "http"
      }
    }
  }
}

resource "aws_appmesh_route" "split" {
  name                = "color-route"
  mesh_name           = aws_appmesh_mesh.gw.name
  virtual_router_name = aws_appmesh_virtual_router.color.name

  spec {
    http_route {
      match {
        prefix = "/"
      }

      action {
        weighted_target {
          virtual_node = aws_appmesh_virtual_node.color[0].name
          weight       = 90
        }
        weighted_target {
          virtual_node = aws_appmesh_virtual_node.color[1].name
          weight       = 10
        }
      }
    }
  }
}

resource "aws_appmesh_virtual_node" "color" {
  count     = 2
  name      = format("color-%s", var.versions[count.index])
  mesh_name = aws_appmesh_mesh.gw.name

  spec {
    listener {
      port_mapping {
        port     = 9080
        protocol = "http"
      }
    }

    service_discovery {
      dns {
        hostname = "color-${var.versions[count.index]}.color.local"
      }
    }
  }
}
