/**
 * A minimal writer for ONNX ModelProto bytes: just enough protobuf to describe one-operator
 * graphs (MatMul / Gemm) with symbolic dimensions. The field numbers are those of onnx.proto3.
 * Written by hand because the only alternative is a full protobuf toolchain for ~40 bytes.
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** ONNX TensorProto.DataType values used here. */
export const OnnxElemType = { float: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, double: 11 } as const;
export type OnnxElemTypeName = keyof typeof OnnxElemType;

class ProtoWriter {
  private readonly parts: number[] = [];
  varint(value: number): this {
    let v = value;
    while (v > 0x7f) {
      this.parts.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.parts.push(v);
    return this;
  }
  private key(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }
  int(field: number, value: number): this {
    return this.key(field, WIRE_VARINT).varint(value);
  }
  bytes(field: number, data: Uint8Array): this {
    this.key(field, WIRE_LEN).varint(data.length);
    for (const b of data) this.parts.push(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export interface OnnxTensorSpec {
  name: string;
  elemType: OnnxElemTypeName;
  /** A number is a fixed dimension, a string a symbolic one. */
  dims: ReadonlyArray<number | string>;
}

export interface OnnxNodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  intAttributes?: Record<string, number>;
}

function valueInfo(w: ProtoWriter, spec: OnnxTensorSpec): void {
  w.string(1, spec.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, OnnxElemType[spec.elemType]);
      tensor.message(2, (shape) => {
        for (const d of spec.dims) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

/** Serialises a single-node graph to ModelProto bytes (IR version 8, default opset 17). */
export function singleNodeModel(node: OnnxNodeSpec, inputs: OnnxTensorSpec[], outputs: OnnxTensorSpec[]): Uint8Array {
  return graphModel([node], inputs, outputs);
}

/** Serialises a graph of nodes (in topological order) to ModelProto bytes. */
export function graphModel(
  nodes: OnnxNodeSpec[],
  inputs: OnnxTensorSpec[],
  outputs: OnnxTensorSpec[],
): Uint8Array {
  const ATTRIBUTE_INT = 2;
  return new ProtoWriter()
    .int(1, 8)
    .message(8, (op) => op.string(1, '').int(2, 17))
    .message(7, (graph) => {
      nodes.forEach((node, k) =>
        graph.message(1, (n) => {
          for (const i of node.inputs) n.string(1, i);
          for (const o of node.outputs) n.string(2, o);
          n.string(3, `${node.opType.toLowerCase()}${k}`);
          n.string(4, node.opType);
          for (const [name, value] of Object.entries(node.intAttributes ?? {})) {
            n.message(5, (a) => a.string(1, name).int(3, value).int(20, ATTRIBUTE_INT));
          }
        }),
      );
      graph.string(2, 'permllm');
      for (const i of inputs) graph.message(11, (v) => valueInfo(v, i));
      for (const o of outputs) graph.message(12, (v) => valueInfo(v, o));
    })
    .finish();
}
