# A syntax error: the attribute has no value.
resource "aws_appmesh_mesh" "main" {
  name =
}
