import { describe, expect, it } from "vitest";
import { strftime } from "../../../src/engine/chat/strftime.js";

describe("strftime (C locale, local time)", () => {
  const date = new Date(2024, 6, 5, 9, 7, 3); // Friday 5 July 2024, 09:07:03 local

  it("formats what chat templates ask for", () => {
    expect(strftime(date, "%d %b %Y")).toBe("05 Jul 2024"); // Llama 3.x "Today Date"
    expect(strftime(date, "%b %d %Y")).toBe("Jul 05 2024");
    expect(strftime(date, "%Y-%m-%d")).toBe("2024-07-05");
    expect(strftime(date, "%A, %B %e, %y")).toBe("Friday, July  5, 24");
  });

  it("formats times, the day of the year and escapes", () => {
    expect(strftime(date, "%H:%M:%S %I%p %T")).toBe("09:07:03 09AM 09:07:03");
    expect(strftime(new Date(2024, 11, 31, 15, 0, 0), "%j %a %I %p %F %D")).toBe("366 Tue 03 PM 2024-12-31 12/31/24");
    expect(strftime(date, "100%% %Q")).toBe("100% %Q");
  });
});
