// A small ONNX graph builder over onnx-proto (opset 17, IR 8) and the pre-LN block emitted with the same
// parameter names and op order as nn.ts's blockForward, so tfjs and onnxruntime agree to ~1e-6.
import { onnx } from 'onnx-proto';
import { BlockShape, LN_EPS } from './nn';

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

type Dim = number | string;
type AttrValue = number | number[] | string | { float: number };

export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A float32 initialiser (weights, or a scalar when dims is []). */
  floats(name: string, data: Float32Array | number[], dims: number[]): string {
    const f = data instanceof Float32Array ? data : Float32Array.from(data);
    const bytes = new Uint8Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength));
    this.initializers.push({ name: this.claim(name), dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes });
    return name;
  }

  /** An int64 initialiser (shapes, indices, split sizes). */
  int64s(name: string, values: number[], dims: number[] = [values.length]): string {
    const buf = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({ name: this.claim(name), dims, dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(buf.buffer) });
    return name;
  }

  /** A float scalar constant, named after its value. */
  scalar(value: number): string {
    const name = `const_${value}`;
    return this.names.has(name) ? name : this.floats(name, [value], []);
  }

  input(name: string, elemType: 'float' | 'int64', shape: Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, shape));
    return name;
  }

  output(name: string, elemType: 'float' | 'int64', shape: Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, shape));
  }

  /** Adds a node; returns its first output's name (`out` or a fresh one). */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    const output = this.claim(out ?? `${op.toLowerCase()}_${this.counter++}`);
    const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) => attribute1(name, v));
    this.nodes.push({ opType: op, input: inputs, output: [output], name: output, attribute });
    return output;
  }

  /** A node with several outputs (Split). */
  nodeN(op: string, inputs: string[], outputs: number, attrs: Record<string, AttrValue> = {}): string[] {
    const names = Array.from({ length: outputs }, () => this.claim(`${op.toLowerCase()}_${this.counter++}`));
    const attribute = Object.entries(attrs).map(([name, v]) => attribute1(name, v));
    this.nodes.push({ opType: op, input: inputs, output: names, name: names[0], attribute });
    return names;
  }

  /** Serialises the model; `metadata` lands in metadata_props (read back by readOnnxMetadata). */
  toBytes(graphName: string, metadata: Record<string, string> = {}, docString = ''): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'cmm-engine',
      docString,
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: { name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`duplicate ONNX name ${name}`);
    this.names.add(name);
    return name;
  }
}

function valueInfo(name: string, elemType: 'float' | 'int64', shape: Dim[]): onnx.IValueInfoProto {
  const type = elemType === 'float' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64;
  return {
    name,
    type: { tensorType: { elemType: type, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function attribute1(name: string, v: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  return { name, type: T.FLOAT, f: v.float };
}

/** Adds every named weight as an initialiser. */
export function addWeights(g: OnnxGraphBuilder, weights: Map<string, Float32Array>, shapes: Map<string, number[]>): void {
  for (const [name, shape] of shapes) {
    const w = weights.get(name);
    if (!w) throw new Error(`missing weight ${name}`);
    g.floats(name, w, shape);
  }
}

/** x·W + b with W [in, out] (tfjs's layout = MatMul's second input). */
export function emitLinear(g: OnnxGraphBuilder, x: string, w: string, b?: string): string {
  const y = g.node('MatMul', [x, w]);
  return b ? g.node('Add', [y, b]) : y;
}

export function emitLayerNorm(g: OnnxGraphBuilder, x: string, gamma: string, beta: string): string {
  return g.node('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: { float: LN_EPS } });
}

/** GELU as 0.5·x·(1 + erf(x/√2)), the op order of nn.ts's gelu (opset 17 has no Gelu). */
export function emitGelu(g: OnnxGraphBuilder, x: string): string {
  const half = g.node('Mul', [x, g.scalar(0.5)]);
  const e = g.node('Erf', [g.node('Mul', [x, g.scalar(Math.fround(Math.SQRT1_2))])]);
  return g.node('Mul', [half, g.node('Add', [e, g.scalar(1)])]);
}

/**
 * One pre-LN block on h [B, T, d] (B and T may be dynamic). `mask` (optional) is a [T, T] additive
 * tensor name (the LM's causal mask). Returns the block output [B, T, d].
 */
export function emitBlock(g: OnnxGraphBuilder, h: string, prefix: string, s: BlockShape, mask?: string): string {
  const H = s.heads, dh = s.d / H;
  const a = emitLayerNorm(g, h, `${prefix}ln1_g`, `${prefix}ln1_b`);
  const qkv = emitLinear(g, a, `${prefix}qkv_w`, `${prefix}qkv_b`);
  const splitName = `${prefix}split`;
  g.int64s(splitName, [s.d, s.d, s.d]);
  const [q, k, v] = g.nodeN('Split', [qkv, splitName], 3, { axis: -1 });
  const headsShape = `${prefix}heads_shape`;
  g.int64s(headsShape, [0, 0, H, dh]); // 0 copies B and T from the input
  const toHeads = (x: string, perm: number[]) => g.node('Transpose', [g.node('Reshape', [x, headsShape])], { perm });
  const qh = toHeads(g.node('Mul', [q, g.scalar(Math.fround(1 / Math.sqrt(dh)))]), [0, 2, 1, 3]);
  const kt = toHeads(k, [0, 2, 3, 1]);
  const vh = toHeads(v, [0, 2, 1, 3]);
  let scores = g.node('MatMul', [qh, kt]);
  if (mask) scores = g.node('Add', [scores, mask]);
  const ctx = g.node('MatMul', [g.node('Softmax', [scores], { axis: -1 }), vh]);
  const mergedShape = `${prefix}merged_shape`;
  g.int64s(mergedShape, [0, 0, s.d]);
  const merged = g.node('Reshape', [g.node('Transpose', [ctx], { perm: [0, 2, 1, 3] }), mergedShape]);
  const h1 = g.node('Add', [h, emitLinear(g, merged, `${prefix}o_w`, `${prefix}o_b`)]);
  const f1 = emitLinear(g, emitLayerNorm(g, h1, `${prefix}ln2_g`, `${prefix}ln2_b`), `${prefix}ff1_w`, `${prefix}ff1_b`);
  const f2 = emitLinear(g, emitGelu(g, f1), `${prefix}ff2_w`, `${prefix}ff2_b`);
  return g.node('Add', [h1, f2]);
}

/** metadata_props of a serialised model (the graph is decoded too: fine for models of a few MB). */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const m = onnx.ModelProto.decode(bytes);
  const out: Record<string, string> = {};
  for (const p of m.metadataProps ?? []) if (p.key) out[p.key] = p.value ?? '';
  return out;
}

/** Float initialisers of a serialised model by name (raw_data or float_data). */
export function readOnnxInitializers(bytes: Uint8Array): Map<string, Float32Array> {
  const m = onnx.ModelProto.decode(bytes);
  const out = new Map<string, Float32Array>();
  for (const t of m.graph?.initializer ?? []) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT || !t.name) continue;
    if (t.rawData && t.rawData.length > 0) {
      out.set(t.name, new Float32Array(t.rawData.buffer.slice(t.rawData.byteOffset, t.rawData.byteOffset + t.rawData.byteLength)));
    } else out.set(t.name, Float32Array.from(t.floatData ?? []));
  }
  return out;
}
