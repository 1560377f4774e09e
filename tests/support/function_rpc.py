"""The FunctionRpc protobuf messages the Functions host and the Python worker exchange.

From Python 3.13 the gRPC side of the worker (the "proxy worker") ships inside the Functions host
image, not on PyPI; it hands the runtime package (`azure-functions-runtime-v1`) the messages it
receives and a `protos` module to build the answers with. This module is that `protos`: the part
of FunctionRpc.proto (azure-functions-language-worker-protobuf) that the runtime reads and writes,
with its message, field and enum names and types (what the runtime's code depends on) and the
proto's field numbers, built at import time from descriptors so no generated code or protoc is
needed. Both ends of every exchange here use it: it is not a check of wire compatibility with a
real host.
"""

from __future__ import annotations

import sys
from types import ModuleType

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf import timestamp_pb2 as _timestamp

PACKAGE = "AzureFunctionsRpcMessages"
_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
    "bool": _F.TYPE_BOOL,
    "int32": _F.TYPE_INT32,
    "sint64": _F.TYPE_SINT64,
    "double": _F.TYPE_DOUBLE,
}

# message -> [(field, number, type, label or oneof)]; "map:K,V" is a map, "enum:X" an enum type,
# anything else a message. A label "repeated" repeats; "oneof:NAME" puts the field in that oneof.
_MESSAGES: dict[str, list[tuple]] = {
    "StreamingMessage": [
        ("request_id", 1, "string", None),
        ("invocation_request", 4, "InvocationRequest", "oneof:content"),
        ("invocation_response", 5, "InvocationResponse", "oneof:content"),
        ("function_load_request", 8, "FunctionLoadRequest", "oneof:content"),
        ("function_load_response", 9, "FunctionLoadResponse", "oneof:content"),
        ("worker_init_response", 16, "WorkerInitResponse", "oneof:content"),
        ("worker_init_request", 17, "WorkerInitRequest", "oneof:content"),
        ("start_stream", 20, "StartStream", "oneof:content"),
        ("functions_metadata_request", 29, "FunctionsMetadataRequest", "oneof:content"),
        ("function_metadata_response", 30, "FunctionMetadataResponse", "oneof:content"),
    ],
    "StartStream": [("worker_id", 2, "string", None)],
    "WorkerInitRequest": [
        ("host_version", 1, "string", None),
        ("capabilities", 2, "map:string,string", None),
        ("worker_directory", 4, "string", None),
        ("function_app_directory", 5, "string", None),
    ],
    "WorkerInitResponse": [
        ("worker_version", 1, "string", None),
        ("capabilities", 2, "map:string,string", None),
        ("result", 3, "StatusResult", None),
        ("worker_metadata", 4, "WorkerMetadata", None),
    ],
    "WorkerMetadata": [
        ("runtime_name", 1, "string", None),
        ("runtime_version", 2, "string", None),
        ("worker_version", 3, "string", None),
        ("worker_bitness", 4, "string", None),
        ("custom_properties", 5, "map:string,string", None),
    ],
    "StatusResult": [
        ("result", 1, "string", None),
        ("exception", 2, "RpcException", None),
        ("status", 4, "enum:StatusResult.Status", None),
    ],
    "RpcException": [
        ("stack_trace", 1, "string", None),
        ("message", 2, "string", None),
        ("source", 3, "string", None),
        ("is_user_exception", 4, "bool", None),
        ("type", 5, "string", None),
    ],
    "FunctionsMetadataRequest": [("function_app_directory", 1, "string", None)],
    "FunctionMetadataResponse": [
        ("function_metadata_results", 1, "RpcFunctionMetadata", "repeated"),
        ("result", 2, "StatusResult", None),
        ("use_default_metadata_indexing", 3, "bool", None),
    ],
    "FunctionEnvironmentReloadResponse": [
        ("worker_metadata", 1, "WorkerMetadata", None),
        ("capabilities", 2, "map:string,string", None),
        ("result", 3, "StatusResult", None),
    ],
    "FunctionLoadRequest": [
        ("function_id", 1, "string", None),
        ("metadata", 2, "RpcFunctionMetadata", None),
    ],
    "FunctionLoadResponse": [
        ("function_id", 1, "string", None),
        ("result", 2, "StatusResult", None),
    ],
    "RpcFunctionMetadata": [
        ("directory", 1, "string", None),
        ("script_file", 2, "string", None),
        ("entry_point", 3, "string", None),
        ("name", 4, "string", None),
        ("bindings", 6, "map:string,BindingInfo", None),
        ("raw_bindings", 10, "string", "repeated"),
        ("function_id", 13, "string", None),
    ],
    "BindingInfo": [
        ("type", 2, "string", None),
        ("direction", 3, "enum:BindingInfo.Direction", None),
        ("data_type", 4, "enum:BindingInfo.DataType", None),
    ],
    "InvocationRequest": [
        ("invocation_id", 1, "string", None),
        ("function_id", 2, "string", None),
        ("input_data", 3, "ParameterBinding", "repeated"),
        ("trigger_metadata", 4, "map:string,TypedData", None),
        ("trace_context", 5, "RpcTraceContext", None),
        ("retry_context", 6, "RetryContext", None),
    ],
    "RpcTraceContext": [
        ("trace_parent", 1, "string", None),
        ("trace_state", 2, "string", None),
        ("attributes", 3, "map:string,string", None),
    ],
    "RetryContext": [
        ("retry_count", 1, "int32", None),
        ("max_retry_count", 2, "int32", None),
        ("exception", 3, "RpcException", None),
    ],
    "InvocationResponse": [
        ("invocation_id", 1, "string", None),
        ("output_data", 2, "ParameterBinding", "repeated"),
        ("result", 3, "StatusResult", None),
        ("return_value", 4, "TypedData", None),
    ],
    "ParameterBinding": [
        ("name", 1, "string", None),
        ("data", 2, "TypedData", "oneof:rpc_data"),
    ],
    "TypedData": [
        ("string", 1, "string", "oneof:data"),
        ("json", 2, "string", "oneof:data"),
        ("bytes", 3, "bytes", "oneof:data"),
        ("stream", 4, "bytes", "oneof:data"),
        ("http", 5, "RpcHttp", "oneof:data"),
        ("int", 6, "sint64", "oneof:data"),
        ("double", 7, "double", "oneof:data"),
        ("collection_bytes", 8, "CollectionBytes", "oneof:data"),
        ("collection_string", 9, "CollectionString", "oneof:data"),
        ("collection_double", 10, "CollectionDouble", "oneof:data"),
        ("collection_sint64", 11, "CollectionSInt64", "oneof:data"),
    ],
    "CollectionBytes": [("bytes", 1, "bytes", "repeated")],
    "CollectionString": [("string", 1, "string", "repeated")],
    "CollectionDouble": [("double", 1, "double", "repeated")],
    "CollectionSInt64": [("sint64", 1, "sint64", "repeated")],
    "RpcHttp": [
        ("method", 1, "string", None),
        ("url", 2, "string", None),
        ("headers", 3, "map:string,string", None),
        ("body", 4, "TypedData", None),
        ("params", 10, "map:string,string", None),
        ("status_code", 12, "string", None),
        ("query", 15, "map:string,string", None),
        ("enable_content_negotiation", 16, "bool", None),
        ("rawBody", 17, "TypedData", None),
        ("cookies", 19, "RpcHttpCookie", "repeated"),
    ],
    "RpcHttpCookie": [
        ("name", 1, "string", None),
        ("value", 2, "string", None),
        ("domain", 3, "NullableString", None),
        ("path", 4, "NullableString", None),
        ("expires", 5, "NullableTimestamp", None),
        ("secure", 6, "NullableBool", None),
        ("http_only", 7, "NullableBool", None),
        ("same_site", 8, "enum:RpcHttpCookie.SameSite", None),
        ("max_age", 9, "NullableDouble", None),
    ],
    "NullableString": [("value", 1, "string", "oneof:string")],
    "NullableDouble": [("value", 1, "double", "oneof:double")],
    "NullableBool": [("value", 1, "bool", "oneof:bool")],
    "NullableTimestamp": [("value", 1, ".google.protobuf.Timestamp", "oneof:timestamp")],
}
_ENUMS = {
    "StatusResult.Status": ["Failure", "Success", "Cancelled"],
    "BindingInfo.Direction": ["in", "out", "inout"],
    "BindingInfo.DataType": ["undefined", "string", "binary", "stream"],
    "RpcHttpCookie.SameSite": ["None", "Lax", "Strict", "ExplicitNone"],
}


def _file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="FunctionRpc.proto",
        package=PACKAGE,
        syntax="proto3",
        dependency=["google/protobuf/timestamp.proto"],
    )
    messages = {name: file.message_type.add(name=name) for name in _MESSAGES}
    for qualified, values in _ENUMS.items():
        owner, name = qualified.split(".")
        enum = messages[owner].enum_type.add(name=name)
        for number, value in enumerate(values):
            enum.value.add(name=value, number=number)
    for name, fields in _MESSAGES.items():
        message = messages[name]
        oneofs: dict[str, int] = {}
        for field_name, number, kind, label in fields:
            field = message.field.add(name=field_name, number=number, json_name=field_name)
            field.label = _F.LABEL_REPEATED if label == "repeated" else _F.LABEL_OPTIONAL
            if label and label.startswith("oneof:"):
                oneof = label.split(":", 1)[1]
                if oneof not in oneofs:
                    oneofs[oneof] = len(message.oneof_decl)
                    message.oneof_decl.add(name=oneof)
                field.oneof_index = oneofs[oneof]
            _set_type(message, field, kind)
    return file


def _set_type(message, field, kind: str) -> None:
    if kind in _SCALARS:
        field.type = _SCALARS[kind]
    elif kind.startswith("enum:"):
        field.type = _F.TYPE_ENUM
        field.type_name = f".{PACKAGE}.{kind[5:]}"
    elif kind.startswith("map:"):
        key, value = kind[4:].split(",")
        entry = message.nested_type.add(name="".join(p.title() for p in field.name.split("_")))
        entry.name += "Entry"
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, label=_F.LABEL_OPTIONAL, type=_SCALARS[key])
        value_field = entry.field.add(name="value", number=2, label=_F.LABEL_OPTIONAL)
        _set_type(entry, value_field, value)
        field.label = _F.LABEL_REPEATED
        field.type = _F.TYPE_MESSAGE
        field.type_name = f".{PACKAGE}.{message.name}.{entry.name}"
    else:
        field.type = _F.TYPE_MESSAGE
        field.type_name = kind if kind.startswith(".") else f".{PACKAGE}.{kind}"


def _build() -> ModuleType:
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(_timestamp.DESCRIPTOR.serialized_pb)
    pool.AddSerializedFile(_file().SerializeToString())
    file = pool.FindFileByName("FunctionRpc.proto")
    module = ModuleType(__name__ + ".protos", "The FunctionRpc message classes.")
    for name, descriptor in file.message_types_by_name.items():
        setattr(module, name, message_factory.GetMessageClass(descriptor))
    return module


protos = _build()
sys.modules[protos.__name__] = protos
