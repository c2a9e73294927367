// The teacher side of CMM: interface, reference transformer (tfjs training, ONNX export and runtime), LLM teacher,
// feature-file teacher, model folders. See ../shared/design/cmm.md, "Teacher".
export * from './teacher';
export * from './synthetic';
export * from './transformer';
export * from './transformer-train';
export * from './export-onnx';
export * from './onnx-teacher';
export * from './manifest';
export * from './feature-file';
export * from './narrative';
export * from './readout';
export * from './llm-model';
export * from './llm';
export { buildTinyLlm, trainTinyLm, DEFAULT_TINY_LM } from './llm-train';
export { SeededRandom, useWasmBackend } from './nn';
