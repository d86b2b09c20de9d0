# The tcp mesh (testdata/tcp, formats/tcp/cli) as aws_appmesh_* resources: tcp listeners,
# a tcp route splitting 90/10, connection pool and idle timeouts; names through references.
locals {
  mesh = aws_appmesh_mesh.tcp.id
}

resource "aws_appmesh_mesh" "tcp" {
  name = "tcp-mesh"
  spec {
    egress_filter {
      type = "DROP_ALL"
    }
  }
}

resource "aws_appmesh_virtual_node" "app" {
  name      = "app"
  mesh_name = local.mesh
  spec {
    listener {
      port_mapping {
        port     = 8080
        protocol = "http"
      }
    }
    backend {
      virtual_service {
        virtual_service_name = aws_appmesh_virtual_service.web.name
      }
    }
    backend {
      virtual_service {
        virtual_service_name = aws_appmesh_virtual_service.db.name
      }
    }
    backend {
      virtual_service {
        virtual_service_name = aws_appmesh_virtual_service.cache.name
      }
    }
    backend {
      virtual_service {
        virtual_service_name = aws_appmesh_virtual_service.legacy_db.name
      }
    }
    backend {
      virtual_service {
        virtual_service_name = aws_appmesh_virtual_service.metrics.name
      }
    }
  }
}

resource "aws_appmesh_virtual_service" "db" {
  name      = "db.tcp.local"
  mesh_name = local.mesh
  spec {
    provider {
      virtual_router {
        virtual_router_name = aws_appmesh_virtual_router.db.name
      }
    }
  }
}

resource "aws_appmesh_virtual_router" "db" {
  name      = "db-router"
  mesh_name = local.mesh
  spec {
    listener {
      port_mapping {
        port     = 5432
        protocol = "tcp"
      }
    }
  }
}

resource "aws_appmesh_route" "split" {
  name                = "split"
  mesh_name           = local.mesh
  virtual_router_name = aws_appmesh_virtual_router.db.name
  spec {
    priority = 1
    tcp_route {
      action {
        weighted_target {
          virtual_node = aws_appmesh_virtual_node.db_primary.name
          weight       = 90
        }
        weighted_target {
          virtual_node = aws_appmesh_virtual_node.db_replica.name
          weight       = 10
        }
      }
      timeout {
        idle {
          unit  = "s"
          value = 600
        }
      }
    }
  }
}

resource "aws_appmesh_route" "fallback" {
  name                = "fallback"
  mesh_name           = local.mesh
  virtual_router_name = aws_appmesh_virtual_router.db.name
  spec {
    priority = 5
    tcp_route {
      action {
        weighted_target {
          virtual_node = aws_appmesh_virtual_node.db_primary.name
          weight       = 1
        }
      }
    }
  }
}

resource "aws_appmesh_virtual_node" "db_primary" {
  name      = "db-primary"
  mesh_name = local.mesh
  spec {
    listener {
      port_mapping {
        port     = 5432
        protocol = "tcp"
      }
      timeout {
        tcp {
          idle {
            unit  = "s"
            value = 900
          }
        }
      }
      connection_pool {
        tcp {
          max_connections = 100
        }
      }
    }
  }
}

resource "aws_appmesh_virtual_node" "db_replica" {
  name      = "db-replica"
  mesh_name = local.mesh
  spec {
    listener {
      port_mapping {
        port     = 5432
        protocol = "tcp"
      }
    }
  }
}

resource "aws_appmesh_virtual_service" "cache" {
  name      = "cache.tcp.local"
  mesh_name = local.mesh
  spec {
    provider {
      virtual_node {
        virtual_node_name = aws_appmesh_virtual_node.cache.name
      }
    }
  }
}

resource "aws_appmesh_virtual_node" "cache" {
  name      = "cache"
  mesh_name = local.mesh
  spec {
    listener {
      port_mapping {
        port     = 6379
        protocol = "tcp"
      }
      timeout {
        tcp {
          idle {
            unit  = "s"
            value = 30
          }
        }
      }
    }
    listener {
      port_mapping {
        port     = 9100
        protocol = "http"
      }
    }
  }
}

resource "aws_appmesh_virtual_service" "legacy_db" {
  name      = "legacy-db.tcp.local"
  mesh_name = local.mesh
  spec {
    provider {
      virtual_node {
        virtual_node_name = aws_appmesh_virtual_node.legacy_db.name
      }
    }
  }
}

resource "aws_appmesh_virtual_node" "legacy_db" {
  name      = "legacy-db"
  mesh_name = local.mesh
  spec {
    listener {
      port_mapping {
        port     = 5432
        protocol = "tcp"
      }
    }
  }
}

resource "aws_appmesh_virtual_service" "metrics" {
  name      = "metrics.tcp.local"
  mesh_name = local.mesh
  spec {
    provider {
      virtual_node {
        virtual_node_name = aws_appmesh_virtual_node.metrics.name
      }
    }
  }
}

resource "aws_appmesh_virtual_node" "metrics" {
  name      = "metrics"
  mesh_name = local.mesh
  spec {
    listener {
      port_mapping {
        port     = 9080
        protocol = "tcp"
      }
    }
  }
}

resource "aws_appmesh_virtual_service" "web" {
  name      = "web.tcp.local"
  mesh_name = local.mesh
  spec {
    provider {
      virtual_router {
        virtual_router_name = aws_appmesh_virtual_router.web.name
      }
    }
  }
}

resource "aws_appmesh_virtual_router" "web" {
  name      = "web-router"
  mesh_name = local.mesh
  spec {
    listener {
      port_mapping {
        port     = 9080
        protocol = "http"
      }
    }
  }
}

resource "aws_appmesh_route" "all" {
  name                = "all"
  mesh_name           = local.mesh
  virtual_router_name = aws_appmesh_virtual_router.web.name
  spec {
    http_route {
      match {
        prefix = "/"
      }
      action {
        weighted_target {
          virtual_node = aws_appmesh_virtual_node.web.name
          weight       = 1
        }
      }
    }
  }
}

resource "aws_appmesh_virtual_node" "web" {
  name      = "web"
  mesh_name = local.mesh
  spec {
    listener {
      port_mapping {
        port     = 9080
        protocol = "http"
      }
    }
  }
}
