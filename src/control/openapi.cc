// The OpenAPI 3.0 description of the control plane's REST API, served at
// GET /api/openapi.json. Keep it in step with api.cc and docs/control-plane.md.

#include "control/api.h"

namespace wharf::control {

std::string_view OpenApiDocument() {
  static constexpr std::string_view kDocument = R"json({
  "openapi": "3.0.3",
  "info": {"title": "wharf control plane", "version": "1",
           "description": "Task definitions, tasks, logs, artifacts and registered models. Every route but /api/health and /api/openapi.json needs Authorization: Bearer TOKEN."},
  "servers": [{"url": "http://127.0.0.1:8765"}],
  "security": [{"bearer": []}],
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "responses": {
      "Error": {"description": "An error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    },
    "schemas": {
      "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
      "Resources": {"type": "object", "properties": {
        "cpus": {"type": "number", "exclusiveMinimum": true, "minimum": 0},
        "memory": {"oneOf": [{"type": "integer"}, {"type": "string", "example": "2GiB"}]},
        "pids": {"type": "integer", "minimum": 1},
        "ranks": {"type": "integer", "minimum": 1, "maximum": 4096,
                  "description": "processes of one data-parallel program (MPI ranks); cpus is per rank"},
        "gpus": {"type": "integer", "minimum": 0, "maximum": 64,
                 "description": "GPUs the task needs (Slurm: --gres=gpu:N; local: at most the host's)"}}},
      "DefinitionSpec": {"type": "object", "additionalProperties": false, "properties": {
        "job": {"type": "string", "description": "a built-in job (GET /api/jobs); exclusive with command"},
        "params": {"type": "object", "description": "the job's parameters; 'artifact:NAME' and 'model:NAME@ALIAS' strings are resolved to paths"},
        "command": {"type": "array", "items": {"type": "string"}, "description": "argv, never run through a shell; $(VAR) expands from the task's environment"},
        "model": {"type": "string", "description": "the model a training job registers its Modelfile under"},
        "resources": {"$ref": "#/components/schemas/Resources"},
        "env": {"type": "object", "additionalProperties": {"type": "string"}},
        "inputs": {"type": "object", "additionalProperties": {"type": "string"}, "description": "NAME -> artifact, exported as WHARF_INPUT_NAME"},
        "outputs": {"type": "array", "items": {"type": "string"}, "description": "files the task must leave in WHARF_OUTPUT_DIR"},
        "count": {"type": "integer", "minimum": 1, "maximum": 10000},
        "retries": {"type": "integer", "minimum": 0, "maximum": 100},
        "retry_backoff": {"oneOf": [{"type": "number"}, {"type": "string", "example": "1s"}]},
        "timeout": {"oneOf": [{"type": "number"}, {"type": "string", "example": "10m"}]},
        "executor": {"type": "string", "enum": ["local", "slurm"], "description": "where its tasks run; default: the server's"},
        "service": {"type": "object", "additionalProperties": false, "description": "how it runs as a service (POST /api/services)", "properties": {
          "desired": {"type": "integer", "minimum": 0, "maximum": 1000},
          "port": {"oneOf": [{"type": "string", "enum": ["auto"]}, {"type": "integer", "minimum": 1, "maximum": 65535}], "description": "exported as WHARF_PORT"},
          "restart": {"type": "string", "enum": ["always", "on-failure"]},
          "health": {"type": "object", "additionalProperties": false, "properties": {
            "http_path": {"type": "string"}, "command": {"type": "array", "items": {"type": "string"}},
            "interval": {"type": "string"}, "timeout": {"type": "string"}, "retries": {"type": "integer", "minimum": 1, "maximum": 100},
            "start_period": {"type": "string"}}}}},
        "secrets": {"type": "object", "additionalProperties": false, "description": "secrets by name, read when each attempt starts",
                    "properties": {"env": {"type": "object", "additionalProperties": {"type": "string"}, "description": "VARIABLE -> secret"},
                                   "files": {"type": "object", "additionalProperties": {"type": "string"}, "description": "file name in $WHARF_SECRETS_DIR (0600) -> secret"}}}}},
      "TaskDefinitionInput": {"allOf": [{"$ref": "#/components/schemas/DefinitionSpec"},
        {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$"}}}]},
      "TaskDefinition": {"type": "object", "properties": {
        "name": {"type": "string"}, "revision": {"type": "integer"}, "active": {"type": "boolean"},
        "sha256": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
        "spec": {"$ref": "#/components/schemas/DefinitionSpec"}}},
      "Task": {"type": "object", "properties": {
        "id": {"type": "string"}, "taskdef": {"type": "string"}, "revision": {"type": "integer"},
        "group_id": {"type": "string"},
        "index": {"type": "integer", "description": "the task's place in its run, 0 .. count-1"},
        "count": {"type": "integer", "description": "tasks in its run"},
        "state": {"type": "string", "enum": ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]},
        "attempt": {"type": "integer"}, "max_attempts": {"type": "integer"},
        "exit_code": {"type": "integer", "nullable": true}, "reason": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "started_at": {"type": "string", "format": "date-time", "nullable": true},
        "finished_at": {"type": "string", "format": "date-time", "nullable": true},
        "next_attempt_at": {"type": "string", "format": "date-time", "nullable": true},
        "output_prefix": {"type": "string"},
        "handle": {"type": "string", "description": "where the executor runs the current attempt (local: its run directory); empty until started"},
        "spec": {"$ref": "#/components/schemas/DefinitionSpec"}}},
      "ModelVersion": {"type": "object", "properties": {
        "model": {"type": "string"}, "version": {"type": "integer"}, "path": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"}, "metrics": {"type": "object"},
        "lineage": {"type": "object"}, "aliases": {"type": "array", "items": {"type": "string"}}}}
    }
  },
  "paths": {
    "/api/health": {"get": {"summary": "Liveness", "security": [], "responses": {"200": {"description": "ok"}}}},
    "/api/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI 3"}}}},
    "/api/jobs": {"get": {"summary": "Built-in jobs and their parameters", "responses": {"200": {"description": "{jobs: [...]}"}, "401": {"$ref": "#/components/responses/Error"}}}},
    "/api/taskdefs": {
      "get": {"summary": "Latest revision of each definition",
              "parameters": [{"name": "all", "in": "query", "schema": {"type": "boolean"}, "description": "include deregistered"}],
              "responses": {"200": {"description": "{taskdefs: [TaskDefinition]}"}, "401": {"$ref": "#/components/responses/Error"}}},
      "post": {"summary": "Register a definition (a changed one becomes the next revision)",
               "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TaskDefinitionInput"}}}},
               "responses": {"201": {"description": "a new revision", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TaskDefinition"}}}},
                             "200": {"description": "unchanged: the current revision"},
                             "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}}}},
    "/api/taskdefs/{name}": {
      "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {"summary": "The latest revision", "responses": {"200": {"description": "TaskDefinition"}, "404": {"$ref": "#/components/responses/Error"}}},
      "delete": {"summary": "Deregister (hide) the name; revisions stay readable", "responses": {"200": {"description": "TaskDefinition"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/taskdefs/{name}/revisions/{revision}": {
      "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}},
                     {"name": "revision", "in": "path", "required": true, "schema": {"type": "integer"}}],
      "get": {"summary": "One revision", "responses": {"200": {"description": "TaskDefinition"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/runs": {"post": {"summary": "Run a definition revision as count tasks",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["taskdef"], "properties": {
        "taskdef": {"type": "string"}, "revision": {"type": "integer"}, "count": {"type": "integer", "minimum": 1, "maximum": 10000},
        "overrides": {"type": "object", "description": "a JSON merge patch (RFC 7386) applied to the definition"}}}}}},
      "responses": {"201": {"description": "{group_id, tasks: [Task]}"}, "400": {"$ref": "#/components/responses/Error"},
                    "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}},
    "/api/tasks": {"get": {"summary": "Tasks, newest first",
      "parameters": [{"name": "state", "in": "query", "schema": {"type": "string"}, "description": "comma-separated states"},
                     {"name": "taskdef", "in": "query", "schema": {"type": "string"}},
                     {"name": "group", "in": "query", "schema": {"type": "string"}},
                     {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100}, "description": "0 = all"}],
      "responses": {"200": {"description": "{tasks: [Task]}"}}}},
    "/api/tasks/{id}": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {"summary": "One task", "responses": {"200": {"description": "Task"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/tasks/{id}/stop": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "post": {"summary": "Stop: SIGTERM to the process group, SIGKILL after grace_ms (default 10000)",
               "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"grace_ms": {"type": "integer", "minimum": 0}}}}}},
               "responses": {"202": {"description": "Task"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/tasks/{id}/logs": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "stream", "in": "query", "schema": {"type": "string", "enum": ["stdout", "stderr"]}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        {"name": "max_bytes", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1048576}}],
      "get": {"summary": "A slice of the latest attempt's log", "responses": {"200": {"description": "{data, offset, next_offset, final}"}}}},
    "/api/artifacts": {"get": {"summary": "Stored artifacts",
      "parameters": [{"name": "prefix", "in": "query", "schema": {"type": "string"}}],
      "responses": {"200": {"description": "{artifacts: [{name, size, modified_at}]}"}}}},
    "/api/artifacts/{name}": {"parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}, "description": "a relative path of [A-Za-z0-9._-] segments"}],
      "get": {"summary": "Download", "responses": {"200": {"description": "the bytes", "content": {"application/octet-stream": {}}}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
      "put": {"summary": "Upload (replaces atomically)", "requestBody": {"required": true, "content": {"application/octet-stream": {}}},
              "responses": {"201": {"description": "{name, size, sha256}"}, "400": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}},
    "/api/models": {"get": {"summary": "Registered models", "responses": {"200": {"description": "{models: [{name, latest_version, aliases}]}"}}}},
    "/api/models/{name}": {"parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {"summary": "A model's versions and aliases", "responses": {"200": {"description": "{name, aliases, versions: [ModelVersion]}"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/services": {
      "get": {"summary": "Running services with their instances' health", "responses": {"200": {"description": "{services: [Service]}"}}},
      "post": {"summary": "Run a task definition with a service block as a service",
               "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["taskdef"], "properties": {
                 "taskdef": {"type": "string"}, "name": {"type": "string", "description": "default: the definition's name"},
                 "desired": {"type": "integer", "minimum": 0, "maximum": 1000}}}}}},
               "responses": {"201": {"description": "Service"}, "400": {"$ref": "#/components/responses/Error"},
                             "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}},
    "/api/services/{name}": {"parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {"summary": "A service: desired, running, healthy, restarts, instances (port, url, health, last error), events",
              "responses": {"200": {"description": "Service"}, "404": {"$ref": "#/components/responses/Error"}}},
      "delete": {"summary": "Stop every instance", "responses": {"200": {"description": "Service"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/services/{name}/scale": {"parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
      "post": {"summary": "Change the number of instances",
               "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["desired"], "properties": {"desired": {"type": "integer", "minimum": 0, "maximum": 1000}}}}}},
               "responses": {"200": {"description": "Service"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/services/{name}/stop": {"parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
      "post": {"summary": "Stop every instance; the service stays, inactive", "responses": {"200": {"description": "Service"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/secrets": {"get": {"summary": "Secrets: names, versions and times, never values", "responses": {"200": {"description": "{secrets: [{name, version, created_at, updated_at}]}"}}}},
    "/api/secrets/{name}": {"parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {"summary": "A secret's version and times (its value is never returned)", "responses": {"200": {"description": "{name, version, created_at, updated_at}"}, "404": {"$ref": "#/components/responses/Error"}}},
      "put": {"summary": "Set the value (the raw body, at most 64 KiB): a new version", "requestBody": {"required": true, "content": {"application/octet-stream": {}}},
              "responses": {"201": {"description": "created"}, "200": {"description": "a new version"}, "400": {"$ref": "#/components/responses/Error"}}},
      "delete": {"summary": "Remove (the audit log stays)", "responses": {"200": {"description": "{name, removed}"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/api/secrets/{name}/audit": {"parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100}}],
      "get": {"summary": "Who set, read and removed it, newest first", "responses": {"200": {"description": "{accesses: [{seq, time, secret, action, version, actor}]}"}}}},
    "/api/secret-accesses": {"parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100}}],
      "get": {"summary": "The audit log of every secret, newest first", "responses": {"200": {"description": "{accesses: [...]}"}}}}
  }
})json";
  return kDocument;
}

}  // namespace wharf::control
