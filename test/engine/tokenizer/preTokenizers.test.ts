import { describe, expect, it } from "vitest";
import { findPreTokenizer } from "../../../src/engine/tokenizer/preTokenizers.js";
import {
  REGEX_GPT2,
  REGEX_LLAMA3,
  REGEX_NEWLINE_RUNS,
  REGEX_QWEN2,
  REGEX_QWEN35,
  WordSplitter,
  collapseRegex,
} from "../../../src/engine/tokenizer/regexSplit.js";
import { asciiWhitespaceRegex } from "../../../src/engine/tokenizer/wideRegexSplit.js";

function splitterFor(pre: string): WordSplitter {
  const spec = findPreTokenizer(pre);
  if (spec === undefined) throw new Error(`no pre-tokenizer ${pre}`);
  return new WordSplitter(spec.regexes);
}

/** expected words per pre-tokenizer, worked out from llama.cpp's regexes and scanners */
const CASES: Record<string, Record<string, string[]>> = {
  "1234567": {
    default: ["123", "456", "7"],
    "gpt-2": ["1234567"],
    "llama-bpe": ["123", "456", "7"],
    qwen2: ["1", "2", "3", "4", "5", "6", "7"],
    smollm: ["1", "2", "3", "4", "5", "6", "7"],
    tekken: ["1", "2", "3", "4", "5", "6", "7"],
  },
  "don't DON'T we'll": {
    default: ["don", "'", "t", " DON", "'", "T", " we", "'", "ll"],
    "gpt-2": ["don", "'t", " DON", "'", "T", " we", "'ll"],
    "llama-bpe": ["don", "'t", " DON", "'T", " we", "'ll"],
    qwen2: ["don", "'t", " DON", "'T", " we", "'ll"],
    smollm: ["don", "'t", " DON", "'", "T", " we", "'ll"],
    tekken: ["don", "'t", " DON", "'T", " we", "'ll"],
  },
  "a   b": Object.fromEntries(["default", "gpt-2", "llama-bpe", "qwen2", "smollm", "tekken"].map((p) => [p, ["a", "  ", " b"]])),
  "a\n\nb": {
    default: ["a", "\n", "\n", "b"],
    "gpt-2": ["a", "\n", "\n", "b"],
    "llama-bpe": ["a", "\n\n", "b"],
    qwen2: ["a", "\n\n", "b"],
    smollm: ["a", "\n", "\n", "b"],
    tekken: ["a", "\n\n", "b"],
  },
  "a\r\n\r\n  b": {
    "gpt-2": ["a", "\r\n\r\n ", " b"],
    "llama-bpe": ["a", "\r\n\r\n", " ", " b"],
    qwen2: ["a", "\r\n\r\n", " ", " b"],
  },
  "  x  ": Object.fromEntries(["default", "gpt-2", "llama-bpe", "qwen2", "smollm", "tekken"].map((p) => [p, [" ", " x", "  "]])),
  "😀 ok👍🏽": Object.fromEntries(["default", "gpt-2", "llama-bpe", "qwen2", "smollm", "tekken"].map((p) => [p, ["😀", " ok", "👍🏽"]])),
  "$3.50+10%": {
    default: ["$", "3", ".", "50", "+", "10", "%"],
    "gpt-2": ["$", "3", ".", "50", "+", "10", "%"],
    "llama-bpe": ["$", "3", ".", "50", "+", "10", "%"],
    qwen2: ["$", "3", ".", "5", "0", "+", "1", "0", "%"],
  },
  "HelloWorld camelCase XMLHttpRequest": {
    "gpt-2": ["HelloWorld", " camelCase", " XMLHttpRequest"],
    "llama-bpe": ["HelloWorld", " camelCase", " XMLHttpRequest"],
    tekken: ["Hello", "World", " camel", "Case", " XMLHttp", "Request"],
  },
  // llama.cpp's whitespace list has U+00A0 and U+3000; [^\r\n\p{L}\p{N}]? lets them lead a word in llama3
  "x\u00a0\u00a0y": {
    "gpt-2": ["x", "\u00a0", "\u00a0", "y"],
    "llama-bpe": ["x", "\u00a0", "\u00a0y"],
    // regex path: non-ASCII whitespace is collapsed to \v, so \s+(?!\S) sees it
    tekken: ["x", "\u00a0", "\u00a0y"],
  },
  "café naïve": Object.fromEntries(["default", "gpt-2", "llama-bpe", "qwen2", "smollm", "tekken"].map((p) => [p, ["café", " naïve"]])),
};

/** the pre-tokenizers added for llama.cpp's test vocabularies (falcon, deepseek, qwen35, gemma4) */
const MORE_CASES: Record<string, Record<string, string[]>> = {
  "1234567": {
    falcon: ["123", "456", "7"],
    "deepseek-llm": ["1234567"],
    "deepseek-coder": ["1", "2", "3", "4", "5", "6", "7"],
    qwen35: ["1", "2", "3", "4", "5", "6", "7"],
    gemma4: ["1234567"],
  },
  "Hello 世界 123 안녕": {
    falcon: ["Hello", " 世界", " ", "123", " 안녕"],
    // the CJK/Hangul regex has no \p{…}: it runs on the code points (std::wregex), not the collapsed text
    "deepseek-llm": ["Hello", " ", "世界", " ", "123", " ", "안녕"],
    "deepseek-coder": ["Hello", " ", "世界", " ", "1", "2", "3", " ", "안녕"],
    qwen35: ["Hello", " 世界", " ", "1", "2", "3", " 안녕"],
  },
  // deepseek-llm's punctuation range :-~ holds the ASCII letters, and it runs after the letter regex
  "„Grüße“ – ok?!": {
    "deepseek-llm": ["„", "Gr", "üß", "e", "“", " ", "–", " ok", "?!"],
    "deepseek-coder": ["„", "Grüße", "“", " ", "–", " ok", "?!"],
  },
  // combining marks: qwen35 keeps them in the word, qwen2 splits them off
  "Vie\u0302\u0301t Nam": {
    qwen2: ["Vie", "\u0302\u0301", "t", " Nam"],
    qwen35: ["Vie\u0302\u0301t", " Nam"],
  },
  "x\u00a0\u00a0y": {
    // std::wregex's \s is ASCII only, but non-ASCII whitespace is replaced by \v first
    "deepseek-llm": ["x", "\u00a0", "\u00a0y"],
  },
  "a b\n\n\nc  ": {
    "deepseek-llm": ["a", " b", "\n", "\n", "\n", "c", "  "],
    qwen35: ["a", " b", "\n\n\n", "c", "  "],
    gemma4: ["a b", "\n\n\n", "c  "],
  },
};

describe("pre-tokenizer word splits", () => {
  for (const [text, byPre] of [...Object.entries(CASES), ...Object.entries(MORE_CASES)]) {
    for (const [pre, words] of Object.entries(byPre)) {
      it(`${pre}: ${JSON.stringify(text)}`, () => {
        expect(splitterFor(pre).split(text)).toEqual(words);
      });
    }
  }

  it("always returns words that concatenate back to the input", () => {
    const text = "Hi!! 12345 'twas\t\tit's  \n\r\n x\u3000y 中文 αβγ 😀👍🏽 ǅ Ⅻ ½ \u0085 end   ";
    for (const pre of ["default", "gpt-2", "llama-bpe", "qwen2", "smollm", "tekken", "falcon", "deepseek-llm", "deepseek-coder", "qwen35", "gemma4"]) {
      const words = splitterFor(pre).split(text);
      expect(words.join(""), pre).toBe(text);
      expect(words.every((w) => w.length > 0), pre).toBe(true);
    }
  });
});

describe("custom scanners agree with their regex on ordinary text", () => {
  // JS \s and llama.cpp's whitespace list differ only on rare characters (U+0085, U+FEFF, U+001C..F)
  const samples = [
    "Hello, World! How's it going? I'm fine; we'll see—they've gone.",
    "numbers 1 12 123 1234 12345 3.14159 1,000,000",
    "  spaces   everywhere  \n\n  and\tTABS\t\there \r\n",
    "ÜBER café naïve señor Привет мир 中文字符 😀 👍🏽 !!! ??? ... $$$",
    "'s 'S 'RE 'Ve 'lL x'd y'M",
  ];
  const cases = [
    { name: "gpt2", regex: REGEX_GPT2 + String.raw`|\s+` },
    { name: "llama3", regex: REGEX_LLAMA3 },
    { name: "qwen2", regex: REGEX_QWEN2 },
    { name: "qwen35", regex: REGEX_QWEN35 },
    { name: "newline runs", regex: REGEX_NEWLINE_RUNS },
  ];
  for (const { name, regex } of cases) {
    it(name, () => {
      const splitter = new WordSplitter([name === "gpt2" ? REGEX_GPT2 : regex]);
      const re = new RegExp(regex, "gu");
      for (const text of samples) {
        expect(splitter.split(text), text).toEqual([...text.matchAll(re)].map((m) => m[0]));
      }
    });
  }
});

describe("collapseRegex", () => {
  it("rewrites \\p{X} classes like unicode.cpp, inside and outside brackets", () => {
    expect(collapseRegex(String.raw`\p{N}+`)).toBe("[\xD10-9]+");
    expect(collapseRegex(String.raw`[^\s\p{L}]`)).toBe("[^\\s\xD2A-Za-z]");
    expect(collapseRegex(String.raw`\p{X}`)).toBe(String.raw`\p{X}`);
  });
});

describe("asciiWhitespaceRegex", () => {
  it("restricts \\s and \\S to ASCII whitespace, as std::wregex reads them", () => {
    expect(asciiWhitespaceRegex(String.raw`\s?[^\sa]\S\\s`)).toBe(String.raw`[\t-\r ]?[^\t-\r a][^\t-\r ]\\s`);
    expect(new RegExp(asciiWhitespaceRegex(String.raw`^\s$`), "u").test("\ufeff")).toBe(false);
  });
});

describe("pre-tokenizer table", () => {
  it("knows llama.cpp's names and flags", () => {
    expect(findPreTokenizer("llama-bpe")).toMatchObject({ family: "llama3", ignoreMerges: true, addBos: true, cleanSpaces: true });
    expect(findPreTokenizer("qwen2")).toMatchObject({ family: "qwen2", ignoreMerges: false, addBos: false, cleanSpaces: false });
    expect(findPreTokenizer("tekken")).toMatchObject({ ignoreMerges: true, addBos: true, cleanSpaces: false });
    expect(findPreTokenizer("")).toBe(findPreTokenizer("default"));
    expect(findPreTokenizer("deepseek-coder")).toMatchObject({ cleanSpaces: false, byteEncode: true });
    expect(findPreTokenizer("falcon")).toMatchObject({ cleanSpaces: true, addBos: false });
    expect(findPreTokenizer("gemma4")).toMatchObject({
      forceAddBos: true,
      byteEncode: false,
      escapeWhitespaces: true,
      wholeLineFeedWords: true,
    });
    // llama.cpp spells it "gpt-2"; "gpt2" is rejected there too
    expect(findPreTokenizer("gpt2")).toBeUndefined();
  });
});
