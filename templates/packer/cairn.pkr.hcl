# Packer template: bake an image with cairn (docs/bake.md).
#
# HCL2 (packer >= 1.7 syntax; also accepted by 1.6). Only what is built into the
# packer binary is used (the null builder, the shell-local provisioner), so no
# plugin download and no `packer init` are needed. No required_plugins block.
#
# As it stands the template bakes an existing machine over SSH (the null
# builder: ssh_host / ssh_port / ssh_username / ssh_private_key_file). For a VM
# image, replace source "null" by your builder (qemu, amazon-ebs, arm-image,
# ...) and keep the build block: ${build.Host}, ${build.Port}, ${build.User} and
# ${build.SSHPrivateKey} then describe the fresh build VM and its temporary key.
#
#   CHECKPOINT_DISABLE=1 packer build \
#     -var ssh_host=10.0.2.15 -var ssh_private_key_file=./build_key \
#     -var 'cairn_roles=base,consul,nomad' -var cairn_roles_dir=$PWD/roles \
#     templates/packer/cairn.pkr.hcl

variable "ssh_host" {
  type        = string
  description = "Address of the machine to bake (null builder)."
}

variable "ssh_port" {
  type    = number
  default = 22
}

variable "ssh_username" {
  type    = string
  default = "root"
}

variable "ssh_private_key_file" {
  type        = string
  description = "Private key that logs in as ssh_username."
}

variable "cairn_roles" {
  type        = string
  description = "Roles of the image, in order, comma separated (bake-cleanup is added last by --bake)."
}

variable "cairn_roles_dir" {
  type        = string
  default     = ""
  description = "Directory of project roles (<dir>/<role>/index.ts); empty: cairn's built-in roles only."
}

variable "cairn_vars_file" {
  type        = string
  default     = ""
  description = "YAML file with a map of vars for the image; empty: none."
}

variable "cairn_command" {
  type        = string
  default     = "cairn"
  description = "How to run cairn on the machine running Packer, e.g. \"node /opt/cairn/src/cli/bin.js\"."
}

variable "cairn_args" {
  type        = string
  default     = ""
  description = "Extra arguments for cairn apply, e.g. \"--json\" or \"-e nomad_version=1.9.7\"."
}

source "null" "build_vm" {
  communicator         = "ssh"
  ssh_host             = var.ssh_host
  ssh_port             = var.ssh_port
  ssh_username         = var.ssh_username
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = "2m"
}

build {
  sources = ["source.null.build_vm"]

  provisioner "shell-local" {
    environment_vars = [
      "CAIRN_SSH_HOST=${build.Host}",
      "CAIRN_SSH_PORT=${build.Port}",
      "CAIRN_SSH_USER=${build.User}",
      "CAIRN_SSH_PRIVATE_KEY=${build.SSHPrivateKey}",
      "CAIRN_SSH_KEY_FILE=${var.ssh_private_key_file}",
      "CAIRN_ROLES=${var.cairn_roles}",
      "CAIRN_ROLES_DIR=${var.cairn_roles_dir}",
      "CAIRN_VARS_FILE=${var.cairn_vars_file}",
      "CAIRN_CMD=${var.cairn_command}",
      "CAIRN_ARGS=${var.cairn_args}",
    ]
    command = "${path.root}/cairn-packer-hook.sh"
  }
}
