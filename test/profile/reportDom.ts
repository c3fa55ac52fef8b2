/** What a rendered profile report shows, read from the DOM in Chromium (for the browser tests). */
import type { Page } from "playwright-core";

export interface ReportDom {
  laneNames: string[];
  /** `${node}/${kind}` → number of timeline bars */
  barCounts: Record<string, number>;
  /** timeline bars with a non-zero on-screen width and a hover title */
  visibleTitledBars: number;
  passBoundaries: number;
  layerLabels: string[];
  /** `${layer}/${part}` → on-screen width in px */
  layerSegmentWidths: Record<string, number>;
  bottlenecks: string[];
  nodeRows: number;
  timelineWidthPx: number;
}

/** The few DOM members used here (the project compiles without the DOM library). */
interface DomElement {
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
  readonly classList: ArrayLike<string>;
  readonly parentElement: DomElement | null;
  getBoundingClientRect(): { readonly width: number };
  querySelector(selector: string): DomElement | null;
}
interface DomDocument {
  querySelectorAll(selector: string): ArrayLike<DomElement> & Iterable<DomElement>;
  getElementById(id: string): DomElement | null;
}

export function readReportDom(page: Page): Promise<ReportDom> {
  return page.evaluate(() => {
    const document = (globalThis as unknown as { document: DomDocument }).document;
    const barCounts: Record<string, number> = {};
    let visibleTitledBars = 0;
    for (const bar of document.querySelectorAll("#timeline rect.bar")) {
      const key = `${bar.dataset.node}/${bar.classList[1]}`;
      barCounts[key] = (barCounts[key] ?? 0) + 1;
      if (bar.getBoundingClientRect().width > 0 && (bar.querySelector("title")?.textContent ?? "").length > 0) visibleTitledBars++;
    }
    const layerSegmentWidths: Record<string, number> = {};
    for (const seg of document.querySelectorAll("#layers .layer-bar rect.seg")) {
      const layer = seg.parentElement?.dataset.layer;
      layerSegmentWidths[`${layer}/${seg.classList[1]}`] = seg.getBoundingClientRect().width;
    }
    return {
      laneNames: [...document.querySelectorAll("#timeline .lane-label")].map((t) => t.textContent ?? ""),
      barCounts,
      visibleTitledBars,
      passBoundaries: document.querySelectorAll("#timeline line.pass-boundary").length,
      layerLabels: [...document.querySelectorAll("#layers .layer-label")].map((t) => t.textContent ?? ""),
      layerSegmentWidths,
      bottlenecks: [...document.querySelectorAll("ol.bottlenecks li")].map((li) => li.textContent ?? ""),
      nodeRows: document.querySelectorAll("#nodes tbody tr").length,
      timelineWidthPx: document.getElementById("timeline")!.getBoundingClientRect().width,
    };
  });
}
