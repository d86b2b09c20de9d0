// Front-ends: formats that hold App Mesh resources inside another language (a CloudFormation
// template, Terraform configuration or state). A front-end reads one whole file and rewrites each
// App Mesh resource in it as the `aws appmesh` CLI input document App Mesh's API would have been
// given ({"meshName": ..., "virtualNodeName": ..., "spec": {...}}, camelCase); the loader then
// reads those documents like any other, so the spec rules live in one place (spec_parser.h).
//
// The loader asks the registry (frontend.cc) for every file before reading it as App Mesh
// documents. Each front-end decides from the file's name and, for YAML and JSON files, its parsed
// documents; files that are not YAML (Terraform's .tf) reach it unparsed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "yaml-cpp/yaml.h"
#include "config/appmesh/load_options.h"
#include "config/appmesh/model.h"

namespace trellis::config::appmesh {

struct InputFile {
  std::string name;     // used in error messages, e.g. "colorteller.yaml"
  std::string content;  // JSON or YAML, possibly several YAML documents; or another language
  // The folder's files, this one included, when the loader reads a folder (null otherwise): a
  // Terraform module spans every .tf file of its folder.
  const std::vector<InputFile>* folder = nullptr;
};

// One App Mesh resource a front-end found.
struct FrontendDocument {
  YAML::Node node;       // the resource as aws appmesh CLI input
  std::string resource;  // its name in the source language: "ColorTellerNode"
};

struct FrontendResult {
  InputFormat format = InputFormat::kCloudFormation;
  std::vector<FrontendDocument> documents;
  // Whole messages, each starting with the file's name and the resource:
  // "mesh.yaml (resource ColorTellerNode): Properties.MeshName: !Ref MeshName: ...".
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  // For the summary: "mesh.yaml: 7 resources of other types skipped (AWS::ECS::Service 2, ...)".
  std::vector<std::string> notes;
  // Whether the result follows from this file's content and the load options alone, so the
  // loader may keep it while both are unchanged. False when it also reads other files of the
  // folder (a Terraform module spans every .tf file and terraform.tfvars).
  bool cacheable = true;
};

// The file as a front-end's format, or nullopt when no front-end claims it. `documents` is the
// file's YAML/JSON parse, or null when the file is not YAML/JSON (see isRawTextFile).
std::optional<FrontendResult> readWithFrontend(const InputFile& file,
                                               const std::vector<YAML::Node>* documents,
                                               const LoadOptions& options);

// Files a front-end reads as text, without a YAML parse (Terraform's *.tf).
bool isRawTextFile(const std::string& name);

}  // namespace trellis::config::appmesh
