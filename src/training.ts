// 'cmm-engine/training': the teacher side of CMM (reference transformer in TensorFlow.js, ONNX teacher, tiny LLM
// teacher, feature-file teacher). Kept apart from the main entry because it loads TensorFlow.js.
export * from './cmm/teacher';
export * from './cmm/models';
