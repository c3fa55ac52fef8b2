import { Command } from "commander";
import { openGgufHeader } from "../../engine/gguf/header.js";
import { describeGguf, inspectGguf } from "../../engine/gguf/describe.js";
import type { CliIo } from "../io.js";

export function inspectCommand(io: CliIo): Command {
  return new Command("inspect")
    .description("print a GGUF file's architecture, hyper-parameters, tokenizer and tensors")
    .argument("<file>", "GGUF model file")
    .option("--json", "print the report as one JSON object", false)
    .action((path: string, flags: { json: boolean }) => {
      using file = openGgufHeader(path);
      if (flags.json) io.writeOut(JSON.stringify(inspectGguf(file), (_key, value) => (typeof value === "bigint" ? value.toString() : value), 2) + "\n");
      else io.writeOut(describeGguf(file));
    });
}
