# The colorapp mesh (config/examples/colorapp) as the AWS provider's aws_appmesh_* resources:
# references between resources, variables (variables.tf), a local, count with count.index.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

provider "aws" {
  region = var.region
}

locals {
  namespace = "${var.mesh_name}.local"
}

resource "aws_appmesh_mesh" "color" {
  name = var.mesh_name

  spec {
    egress_filter {
      type = "DROP_ALL"
    }
  }
}

resource "aws_appmesh_virtual_node" "front" {
  name      = "front"
  mesh_name = aws_appmesh_mesh.color.id

  spec {
    listener {
      port_mapping {
        port     = 8080
        protocol = "http"
      }
    }

    backend {
      virtual_service {
        virtual_service_name = aws_appmesh_virtual_service.colorteller.name
      }
    }

    service_discovery {
      aws_cloud_map {
        namespace_name = local.namespace
        service_name   = "front"
      }
    }

    logging {
      access_log {
        file {
          path = "/dev/stdout"
        }
      }
    }
  }

  tags = {
    app = "colorapp"
  }
}

resource "aws_appmesh_virtual_node" "colorteller" {
  count     = 3
  name      = "colorteller-${var.colors[count.index]}"
  mesh_name = aws_appmesh_mesh.color.id

  spec {
    listener {
      port_mapping {
        port     = 9080
        protocol = "http"
      }

      health_check {
        protocol            = "http"
        path                = "/ping"
        port                = 9080
        healthy_threshold   = 2
        unhealthy_threshold = 2
        interval_millis     = 5000
        timeout_millis      = 2000
      }
    }

    service_discovery {
      aws_cloud_map {
        namespace_name = local.namespace
        service_name   = "colorteller"
        attributes = {
          version = var.colors[count.index]
        }
      }
    }
  }
}

resource "aws_appmesh_virtual_service" "colorteller" {
  name      = "colorteller.${local.namespace}"
  mesh_name = aws_appmesh_mesh.color.id

  spec {
    provider {
      virtual_router {
        virtual_router_name = aws_appmesh_virtual_router.colorteller.name
      }
    }
  }
}

resource "aws_appmesh_virtual_router" "colorteller" {
  name      = "colorteller-router"
  mesh_name = aws_appmesh_mesh.color.id

  spec {
    listener {
      port_mapping {
        port     = 9080
        protocol = "http"
      }
    }
  }
}

resource "aws_appmesh_route" "colorteller" {
  name                = "colorteller-route"
  mesh_name           = aws_appmesh_mesh.color.id
  virtual_router_name = aws_appmesh_virtual_router.colorteller.name

  spec {
    priority = 10

    http_route {
      match {
        prefix = "/"
      }

      action {
        weighted_target {
          virtual_node = aws_appmesh_virtual_node.colorteller[0].name
          weight       = 100
        }
        weighted_target {
          virtual_node = aws_appmesh_virtual_node.colorteller[1].name
          weight       = 0
        }
        weighted_target {
          virtual_node = aws_appmesh_virtual_node.colorteller[2].name
          weight       = 0
        }
      }

      retry_policy {
        max_retries       = 2
        http_retry_events = ["server-error", "gateway-error"]
        tcp_retry_events  = ["connection-error"]

        per_retry_timeout {
          unit  = "ms"
          value = 2000
        }
      }

      timeout {
        per_request {
          unit  = "s"
          value = 15
        }
      }
    }
  }
}

output "mesh_arn" {
  value = aws_appmesh_mesh.color.arn
}
