# The shop on ECS and on a kubernetes cluster, as first written.
provider "aws" {
  region     = "eu-west-1"
  access_key = "AKIAIOSFODNN7EXAMPLE"
  secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
}

variable "api_tag" {
  default = "latest"
}

resource "aws_ecs_task_definition" "api" {
  family       = "shop-api"
  network_mode = "host"
  container_definitions = jsonencode([
    {
      name       = "api"
      image      = "registry.example.com/shop/api:${var.api_tag}"
      user       = "root"
      privileged = true
      environment = [
        { name = "DB_PASSWORD", value = "hunter2hunter2" }
      ]
      linuxParameters = {
        capabilities = { add = ["SYS_ADMIN"] }
      }
    }
  ])
}

resource "kubernetes_deployment" "worker" {
  metadata {
    name      = "worker"
    namespace = "shop"
  }
  spec {
    selector {
      match_labels = { app = "worker" }
    }
    template {
      metadata {
        labels = { app = "worker" }
      }
      spec {
        host_pid = true
        container {
          name  = "worker"
          image = "registry.example.com/shop/worker"
          security_context {
            privileged = true
          }
        }
      }
    }
  }
}
