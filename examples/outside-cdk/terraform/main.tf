# Python's multiprocessing on Lambda with Terraform or OpenTofu: the release's layer zip as an
# aws_lambda_layer_version, and a function that preloads the library from it. Download
# shm-redirect-<library>-<arch>.zip from the GitHub release next to this file, then `terraform init && terraform apply`.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.0"
    }
  }
}

variable "library_version" {
  description = "The library's version in the release (the zip's name)"
  type        = string
  default     = "1.0.0"
}

variable "architecture" {
  description = "x86_64 or arm64: the layer and the function must agree"
  type        = string
  default     = "x86_64"
}

locals {
  layer_zip = "${path.module}/shm-redirect-${var.library_version}-${var.architecture}.zip"
}

# lib/shm_redirect.so in the zip lands at /opt/lib/shm_redirect.so.
resource "aws_lambda_layer_version" "shm_redirect" {
  layer_name               = "shm-redirect-${var.architecture}"
  description              = "shm_redirect.so ${var.library_version} (LD_PRELOAD=/opt/lib/shm_redirect.so)"
  filename                 = local.layer_zip
  source_code_hash         = filebase64sha256(local.layer_zip)
  compatible_architectures = [var.architecture]
  compatible_runtimes      = ["python3.10", "python3.11", "python3.12", "python3.13", "python3.14"]
  license_info             = "Apache-2.0"
}

data "archive_file" "function" {
  type        = "zip"
  source_file = "${path.module}/app.py"
  output_path = "${path.module}/build/function.zip"
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "workers" {
  name               = "multiprocessing-workers"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.workers.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_lambda_function" "workers" {
  function_name    = "multiprocessing-workers"
  role             = aws_iam_role.workers.arn
  runtime          = "python3.12"
  architectures    = [var.architecture]
  handler          = "app.handler"
  filename         = data.archive_file.function.output_path
  source_code_hash = data.archive_file.function.output_base64sha256
  memory_size      = 2048
  timeout          = 60
  layers           = [aws_lambda_layer_version.shm_redirect.arn]

  environment {
    variables = {
      LD_PRELOAD = "/opt/lib/shm_redirect.so"
    }
  }
}

output "layer_arn" {
  value = aws_lambda_layer_version.shm_redirect.arn
}
