import { Command } from "commander";
import { listModels, type ModelListing } from "../../store/catalog.js";
import { formatBytes } from "../../engine/streaming/byteSize.js";
import type { CliIo } from "../io.js";

/** `layerstream models`: the built-in and cached models, with architecture and quantization. */
export function modelsCommand(io: CliIo): Command {
  return new Command("models")
    .description("list the built-in models and the model cache (name, size, architecture, quantization)")
    .option("--json", "print { modelsDir, models: [...] } as one JSON object", false)
    .action((flags: { json: boolean }) => {
      const catalog = listModels();
      if (flags.json) {
        io.writeOut(JSON.stringify(catalog, null, 2) + "\n");
        return;
      }
      const rows = [["NAME", "SIZE", "ARCH", "QUANT", "WHERE"], ...catalog.models.map(row)];
      io.writeOut(formatTable(rows).join("\n") + `\n\nmodel cache: ${catalog.modelsDir}\n`);
    });
}

function row(model: ModelListing): string[] {
  return [model.name, formatBytes(model.nBytes), model.architecture ?? "?", model.quant ?? "?", where(model)];
}

function where(model: ModelListing): string {
  if (model.kind === "builtin") return model.isDefault ? "built-in (default)" : "built-in";
  if (model.kind === "partial") {
    const of = model.nBytesTotal !== undefined ? ` of ${formatBytes(model.nBytesTotal)}` : "";
    return `partial download${of}: pull again to resume, or rm it`;
  }
  const note = model.problem !== undefined ? ` (unreadable: ${model.problem})` : "";
  return `cache${model.source !== undefined ? ` ← ${model.source}` : ""}${note}`;
}

function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  return rows.map((r) => r.map((cell, col) => (col === 1 ? cell.padStart(widths[col]) : cell.padEnd(widths[col]))).join("  ").trimEnd());
}
