// Small ONNX graph builder over onnx-proto (opset 17, IR 8): float/int64 initializers as raw little-endian
// bytes, nodes with int/ints attributes, symbolic batch dimension, metadata. Also the tensor decoder used
// by the readers. Shared by the student exporter; usable by any exporter in the project.
import { onnx } from 'onnx-proto';
import { EngineError } from '../errors';

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

type Attr = number | number[];

export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inits: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly graphName: string) {}

  /** Float32 initializer with the given dims. */
  floats(name: string, data: Float32Array, dims: number[]): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new EngineError('E_INTERNAL', `initializer ${name}: ${data.length} floats for dims [${dims}]`);
    this.claim(name);
    const bytes = new Uint8Array(data.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
    this.inits.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes });
    return name;
  }

  /** Float32 scalar (rank 0) initializer. */
  scalar(name: string, value: number): string {
    return this.floats(name, Float32Array.of(value), []);
  }

  /** Int64 initializer (e.g. a Reshape shape). */
  int64s(name: string, data: number[], dims: number[] = [data.length]): string {
    this.claim(name);
    const bytes = new Uint8Array(data.length * 8);
    const view = new DataView(bytes.buffer);
    data.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    this.inits.push({ name, dims, dataType: onnx.TensorProto.DataType.INT64, rawData: bytes });
    return name;
  }

  /** Adds a node; returns its single output name (auto-named unless given). */
  node(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    const out = output ?? `${opType.toLowerCase()}_${this.counter++}`;
    this.claim(out);
    const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v)
        ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v }
        : { name, type: onnx.AttributeProto.AttributeType.INT, i: v });
    this.nodes.push({ opType, input: inputs, output: [out], name: `${out}_node`, attribute });
    return out;
  }

  /** Float32 graph input/output; a string dim is symbolic (e.g. 'batch'). */
  input(name: string, dims: (number | string)[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(name: string, dims: (number | string)[]): void {
    this.outputs.push(valueInfo(name, dims));
  }

  /** Serialised ModelProto. */
  encode(metadata: Record<string, string> = {}, docString = ''): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'cmm-engine',
      producerVersion: '1',
      docString,
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new EngineError('E_INTERNAL', `duplicate ONNX value name ${name}`);
    this.names.add(name);
  }
}

function valueInfo(name: string, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** protobufjs gives int64 fields as number or Long. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v !== null && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

/** A float32 initializer's values and dims (raw_data little-endian or float_data). */
export function tensorFloats(t: onnx.ITensorProto): { dims: number[]; data: Float32Array } {
  const dims = (t.dims ?? []).map(toNumber);
  const n = dims.reduce((a, b) => a * b, 1);
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT)
    throw new EngineError('E_MODEL', `ONNX initializer ${t.name}: expected FLOAT data, got data type ${t.dataType}`);
  const data = new Float32Array(n);
  if (t.rawData && t.rawData.length > 0) {
    if (t.rawData.length !== n * 4) throw new EngineError('E_MODEL', `ONNX initializer ${t.name}: ${t.rawData.length} raw bytes for dims [${dims}]`);
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    for (let i = 0; i < n; i++) data[i] = view.getFloat32(i * 4, true);
  } else if (t.floatData && t.floatData.length === n) {
    data.set(t.floatData);
  } else if (n !== 0) {
    throw new EngineError('E_MODEL', `ONNX initializer ${t.name}: no data for dims [${dims}] (external data is not supported)`);
  }
  return { dims, data };
}

export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new EngineError('E_BAD_FORMAT', `not an ONNX model: ${(err as Error).message}`);
  }
}

export function metadataOf(model: onnx.IModelProto): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) out[p.key] = p.value ?? '';
  return out;
}
