# The shop on ECS and on a kubernetes cluster, locked down.
provider "aws" {
  region = "eu-west-1" # credentials come from the environment / instance role
}

variable "api_image" {
  default = "registry.example.com/shop/api:1.4.2@sha256:7d2c6a1f4e9b8a3c5d0e2f1a6b9c8d7e0f3a2b5c4d6e8f9a1b0c3d2e5f4a7b6c"
}

resource "aws_ecs_task_definition" "api" {
  family                   = "shop-api"
  network_mode             = "awsvpc"
  requires_compatibilities = ["EC2"]
  container_definitions = jsonencode([
    {
      name                   = "api"
      image                  = var.api_image
      user                   = "10001"
      privileged             = false
      readonlyRootFilesystem = true
      memory                 = 256
      dockerSecurityOptions  = ["no-new-privileges"]
      environment = [
        # the application fetches the password at start-up with its task role
        { name = "DB_PASSWORD_SECRET_ARN", value = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db" }
      ]
      linuxParameters = {
        capabilities = { drop = ["ALL"] }
      }
      healthCheck = {
        command = ["CMD-SHELL", "curl -fsS http://127.0.0.1:8000/healthz || exit 1"]
      }
    }
  ])
}

resource "kubernetes_namespace" "shop" {
  metadata {
    name = "shop"
  }
}

resource "kubernetes_service_account" "worker" {
  metadata {
    name      = "worker"
    namespace = "shop"
  }
  automount_service_account_token = false
}

resource "kubernetes_network_policy" "default_deny" {
  metadata {
    name      = "default-deny"
    namespace = "shop"
  }
  spec {
    pod_selector {}
    policy_types = ["Ingress", "Egress"]
  }
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
        service_account_name            = "worker"
        automount_service_account_token = false
        security_context {
          run_as_non_root = true
          run_as_user     = 10001
          seccomp_profile {
            type = "RuntimeDefault"
          }
        }
        container {
          name  = "worker"
          image = "registry.example.com/shop/worker:2.0.1@sha256:0b5a2c1d4e7f6a9b8c3d2e1f0a5b4c7d6e9f8a1b2c3d4e5f6a7b8c9d0e1f2a3b"
          security_context {
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            capabilities {
              drop = ["ALL"]
            }
          }
          resources {
            requests = { cpu = "100m", memory = "128Mi" }
            limits   = { cpu = "500m", memory = "256Mi" }
          }
          liveness_probe {
            http_get {
              path = "/healthz"
              port = 8080
            }
          }
          readiness_probe {
            http_get {
              path = "/ready"
              port = 8080
            }
          }
        }
      }
    }
  }
}
