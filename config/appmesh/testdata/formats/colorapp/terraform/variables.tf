# The colorapp mesh as Terraform configuration: the values a deployment changes.
variable "region" {
  default = "us-west-2"
}

variable "mesh_name" {
  type    = string
  default = "color-mesh"
}

variable "colors" {
  type    = list(string)
  default = ["red", "blue", "green"]
}
