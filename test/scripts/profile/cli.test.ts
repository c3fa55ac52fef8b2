import { describe, expect, it } from "vitest";
import { parseProfileFlags, ProfileFlagError } from "../../../scripts/profile/cli.js";

describe("profile script flags", () => {
  it("takes --out and --json and leaves the rest to generate", () => {
    expect(parseProfileFlags(["--model", "m.gguf", "--out", "p.html", "-p", "hi", "--json", "--spawn-workers", "2"])).toEqual({
      out: "p.html",
      json: true,
      generateArgv: ["--model", "m.gguf", "-p", "hi", "--spawn-workers", "2"],
    });
    expect(parseProfileFlags(["--out=r.html", "-m", "x"])).toEqual({ out: "r.html", json: false, generateArgv: ["-m", "x"] });
  });

  it("refuses --out without a file name", () => {
    expect(() => parseProfileFlags(["--out"])).toThrow(ProfileFlagError);
    expect(() => parseProfileFlags(["--out", "--json"])).toThrow("--out needs a file name");
  });
});
