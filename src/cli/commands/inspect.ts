import { Command } from "commander";
import { openGgufHeader, readFully, type GgufHeaderFile } from "../../engine/gguf/header.js";
import { describeGguf, inspectGguf } from "../../engine/gguf/describe.js";
import { modelProblems } from "../../engine/model/modelChecks.js";
import { describeNonFinite, scanTensors } from "../../engine/model/tensorScan.js";
import type { CliIo } from "../io.js";

export function inspectCommand(io: CliIo): Command {
  return new Command("inspect")
    .description("print a GGUF file's architecture, hyper-parameters, tokenizer and tensors, and what loading it would refuse")
    .argument("<file>", "GGUF model file")
    .option("--json", "print the report as one JSON object", false)
    .option("--check-tensors", "also read every weight and report NaN or Inf values (as loading with --check-tensors would refuse)", false)
    .action((path: string, flags: { json: boolean; checkTensors: boolean }) => {
      using file = openGgufHeader(path);
      const wouldRefuse = [...modelProblems(file), ...(flags.checkTensors ? nonFiniteTensors(file) : [])];
      if (flags.json) io.writeOut(JSON.stringify({ ...inspectGguf(file), wouldRefuse }, (_key, value) => (typeof value === "bigint" ? value.toString() : value), 2) + "\n");
      else io.writeOut(`${describeGguf(file)}\nwould refuse: ${wouldRefuse.length === 0 ? "nothing (loads)" : wouldRefuse.join("; ")}\n`);
    });
}

/** One line per tensor holding NaN or Inf (tensors of types layerstream cannot decode are not read). */
function nonFiniteTensors(file: GgufHeaderFile): string[] {
  const read = (info: { fileOffset: number }, byteOffset: number, nBytes: number) => {
    const out = new Uint8Array(nBytes);
    readFully(file.fd, out, 0, nBytes, info.fileOffset + byteOffset, file.path);
    return out;
  };
  return scanTensors(file.tensors, read).problems.map((problem) => describeNonFinite(problem, file.tensorsByName));
}
