"""Calls an OTLP/gRPC Export method with python3-grpcio (a gRPC implementation we did not write).

usage: /usr/bin/python3 grpc-python-client.py <host:port> <full method> <request file> [key=value metadata...]
The request file holds a serialized Export*ServiceRequest; it is sent as-is (no protobuf classes needed) and the
reply is printed as one JSON line: {"code": <grpc status>, "details": "...", "response_hex": "..."}.
"""
import json
import sys

import grpc


def main():
    target, method, request_file = sys.argv[1:4]
    metadata = [tuple(pair.split("=", 1)) for pair in sys.argv[4:]]
    with open(request_file, "rb") as f:
        request = f.read()
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        try:
            response = call(request, timeout=30, metadata=metadata)
            print(json.dumps({"code": 0, "details": "", "response_hex": response.hex()}))
        except grpc.RpcError as error:
            print(json.dumps({"code": error.code().value[0], "details": error.details() or "", "response_hex": ""}))


if __name__ == "__main__":
    main()
