# Every kind of expression trellis-hcl2json writes: literals, templates, references, calls.
variable "prefix" {
  default = "color"
}
locals {
  mesh = "${var.prefix}-mesh"
  lit = "a $${b} c"
}
resource "aws_appmesh_virtual_node" "front" {
  name      = "${var.prefix}-node"
  mesh_name = aws_appmesh_mesh.main.id
  count = 2
  spec {
    listener {
      port_mapping {
        port     = 8080
        protocol = "http"
      }
    }
    listener {
      port_mapping {
        port = 8081.5
        protocol = lower("HTTP")
      }
    }
    backend {
      virtual_service {
        virtual_service_name = "x\"y"
      }
    }
  }
  tags = { app = "c", "k.x" = var.prefix, n = [1, true, null] }
}
