"""Generated code of the onestop.v1 gRPC contract (see proto/)."""
