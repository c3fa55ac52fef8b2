import { Command } from "commander";
import { AbortError } from "../../engine/errors.js";
import { ggmlTypeName } from "../../engine/ggml/types.js";
import { QUANT_TYPE_NAMES, quantizeModel, type QuantizeProgress } from "../../engine/gguf/quantizeModel.js";
import type { CliIo } from "../io.js";

interface QuantizeFlags {
  type: string;
  leaveOutputTensor: boolean;
  pure: boolean;
  force: boolean;
}

const MIB = 1024 * 1024;

/** `layerstream quantize IN OUT --type T`: llama-quantize's conversion; stdout gets OUT's path. */
export function quantizeCommand(io: CliIo): Command {
  return new Command("quantize")
    .description("write a copy of a GGUF model with its weight matrices in another type, as llama.cpp's llama-quantize does")
    .argument("<in>", "GGUF model file to read (F32, F16, BF16 or any type layerstream decodes)")
    .argument("<out>", "GGUF file to write (written to OUT.partial, renamed at the end)")
    .requiredOption("--type <type>", `file type: ${QUANT_TYPE_NAMES.join(", ")}`)
    .option("--leave-output-tensor", "keep output.weight as it is", false)
    .option("--pure", "every quantizable tensor in the type itself, without llama.cpp's per-tensor mix", false)
    .option("--force", "replace OUT if it exists", false)
    .action(async (input: string, output: string, flags: QuantizeFlags) => {
      const onTensor = (p: QuantizeProgress) => {
        if (io.signal?.aborted) throw new AbortError(`quantize interrupted; nothing written to ${output}`);
        const size = (n: number) => (n / MIB).toFixed(2);
        const change = p.from === p.to ? `${ggmlTypeName(p.from)} (copied)` : `${ggmlTypeName(p.from)} → ${ggmlTypeName(p.to)}`;
        io.progress(`[${String(p.index + 1).padStart(String(p.nTensors).length)}/${p.nTensors}] ${p.name}: ${change}, ${size(p.inBytes)} → ${size(p.outBytes)} MiB`);
      };
      const result = await quantizeModel(input, output, flags.type, { leaveOutputTensor: flags.leaveOutputTensor, pure: flags.pure, force: flags.force, onTensor });
      const fallback = result.nFallback > 0 ? `; ${result.nFallback} tensor(s) fell back to another type (row length)` : "";
      io.progress(`wrote ${output} (${result.fileType.name}): ${(result.inBytes / MIB).toFixed(2)} → ${(result.outBytes / MIB).toFixed(2)} MiB${fallback}`);
      io.writeOut(`${output}\n`);
    });
}
