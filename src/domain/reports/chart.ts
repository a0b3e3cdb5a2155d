import { createCanvas, GlobalFonts } from "@napi-rs/canvas";
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Title,
  type ChartConfiguration,
  type Plugin,
} from "chart.js";
import type { Logger } from "../../log.js";
import { t } from "../../text/vi.js";
import type { TaskStatus } from "../plans/status.js";
import { formatNumber } from "./format.js";
import type { UnitRow } from "./office-summary.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Title);

/** Fonts tried in order; each has every Vietnamese letter. Skia finds them among the system fonts. */
const FONTS = ["DejaVu Sans", "Noto Sans", "Liberation Sans", "Arial"];

const SERIES: { status: TaskStatus; key: keyof UnitRow; color: string }[] = [
  { status: "done", key: "done", color: "#2e7d32" },
  { status: "in_progress", key: "inProgress", color: "#1e88e5" },
  { status: "not_started", key: "notStarted", color: "#9e9e9e" },
  { status: "blocked", key: "blocked", color: "#fb8c00" },
];

/** Overdue is not a status: it is counted among the unfinished, so it gets a bar of its own. */
const OVERDUE = { key: "overdue" as const, color: "#c62828" };

const WIDTH = 1000;
/** Two bars per unit (statuses, overdue); the fonts stay legible when a phone shows the picture 360 px wide. */
const BAR_HEIGHT = 64;

let fontChecked = false;
function fontFamily(log: Logger): string {
  const available = new Set(GlobalFonts.families.map((f) => f.family));
  const found = FONTS.filter((f) => available.has(f));
  if (found.length === 0 && !fontChecked) {
    log.warn(
      "reports: no font with Vietnamese letters found (install fonts-dejavu-core or fonts-noto-core); " +
        "chart labels may show boxes",
    );
  }
  fontChecked = true;
  return [...found, "sans-serif"].map((f) => (f.includes(" ") ? `"${f}"` : f)).join(", ");
}

/** Long unit names on two lines, split at a space, so the bars keep their width. */
function wrap(name: string, max = 26): string | string[] {
  if (name.length <= max) return name;
  const cut = name.lastIndexOf(" ", max);
  return cut > 0 ? [name.slice(0, cut), name.slice(cut + 1)] : name;
}

/** Paints the background white: chart.js leaves it transparent, which chat apps show as black. */
const background: Plugin<"bar"> = {
  id: "background",
  beforeDraw(chart) {
    const { ctx } = chart;
    ctx.save();
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

/** Writes each segment's count inside it, so the picture reads without the axis. */
const segmentCounts: Plugin<"bar"> = {
  id: "segmentCounts",
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    ctx.save();
    ctx.fillStyle = "#ffffff";
    ctx.font = `bold 18px ${chart.options.font?.family ?? "sans-serif"}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    chart.data.datasets.forEach((dataset, i) => {
      chart.getDatasetMeta(i).data.forEach((bar, j) => {
        const value = Number(dataset.data[j] ?? 0);
        const { x, base, y } = bar.getProps(["x", "base", "y"], true) as {
          x: number;
          base: number;
          y: number;
        };
        if (value > 0 && Math.abs(x - base) > 26) ctx.fillText(formatNumber(value), (x + base) / 2, y);
      });
    });
    ctx.restore();
  },
};

/**
 * A PNG of progress by unit: one horizontal stacked bar per unit (done / in progress / not
 * started / blocked), drawn on the server by chart.js on @napi-rs/canvas: no browser, no network.
 */
export function renderProgressChart(units: UnitRow[], title: string, log: Logger): Buffer {
  const height = 230 + Math.max(units.length, 1) * BAR_HEIGHT;
  const canvas = createCanvas(WIDTH, height);
  const family = fontFamily(log);
  const config: ChartConfiguration<"bar"> = {
    type: "bar",
    data: {
      labels: units.map((u) => wrap(u.unit.name)),
      datasets: [
        ...SERIES.map((s) => ({
          label: t.plans.status(s.status),
          data: units.map((u) => Number(u[s.key])),
          backgroundColor: s.color,
          stack: "status",
          barPercentage: 0.9,
          categoryPercentage: 0.9,
        })),
        {
          label: t.reports.chartOverdue,
          data: units.map((u) => u[OVERDUE.key]),
          backgroundColor: OVERDUE.color,
          stack: "overdue",
          barPercentage: 0.9,
          categoryPercentage: 0.9,
        },
      ],
    },
    options: {
      indexAxis: "y",
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      font: { family, size: 20 },
      layout: { padding: 16 },
      scales: {
        x: {
          stacked: true,
          beginAtZero: true,
          ticks: {
            precision: 0,
            callback: (value) => formatNumber(Number(value)),
            font: { family, size: 18 },
          },
          title: { display: true, text: wrap(t.reports.chartAxis, 60), font: { family, size: 18 } },
        },
        y: { stacked: true, ticks: { font: { family, size: 20 }, color: "#212121" } },
      },
      plugins: {
        title: {
          display: true,
          text: wrap(title, 50),
          font: { family, size: 24, weight: "bold" },
          color: "#212121",
        },
        legend: { position: "top", labels: { font: { family, size: 20 }, boxWidth: 24 } },
      },
    },
    plugins: [background, segmentCounts],
  };
  // chart.js takes a DOM canvas context; @napi-rs/canvas implements the same 2D API (the
  // project's lib settings have no DOM types, hence the cast through the constructor's type).
  const chart = new Chart(
    canvas.getContext("2d") as unknown as ConstructorParameters<typeof Chart>[0],
    config,
  );
  try {
    return canvas.toBuffer("image/png");
  } finally {
    chart.destroy();
  }
}
