export * from "./errors.js";
export * from "./header.js";
export * from "./activations.js";
export * from "./control.js";
export * from "./message.js";
