/** Registers the ONNX lowering of every op of the op table that has one. */
import './elementwise.js';
import './index.js';
import './linalg.js';
import './reduce.js';
import './shape.js';
