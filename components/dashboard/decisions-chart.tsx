"use client";
import type { ConsoleStats } from "@/lib/contracts/console";

const W = 760;
const H = 220;
const PAD = { l: 36, r: 8, t: 10, b: 26 };
const OK = "#2f9e63";
const BAD = "#d64533";

function niceMax(n: number): number {
  if (n <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

function tickLabel(iso: string, bucketMs: number): string {
  const d = new Date(iso);
  if (bucketMs < 86_400_000) return `${String(d.getUTCHours()).padStart(2, "0")}:00`;
  return d.toLocaleDateString("en", { month: "short", day: "numeric", timeZone: "UTC" });
}

/** Decisions per bucket, permitted stacked under blocked. Plain SVG, labelled for screen readers. */
export function DecisionsChart({ stats }: { stats: ConsoleStats }) {
  const n = stats.buckets.length;
  const max = niceMax(Math.max(0, ...stats.buckets.map((b) => b.permitted + b.blocked)));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const bw = iw / Math.max(1, n);
  const y = (v: number) => PAD.t + ih - (v / max) * ih;
  const every = Math.ceil(n / 8);
  return (
    <figure style={{ margin: 0 }}>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Decisions per ${stats.bucketMs < 86_400_000 ? "hour" : "day"}: ${stats.totals.permitted} permitted, ${stats.totals.blocked} blocked`}>
        {[0, 0.25, 0.5, 0.75, 1].map((f) => (
          <g key={f}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(max * f)} y2={y(max * f)} stroke="#e5e7eb" />
            <text x={PAD.l - 6} y={y(max * f) + 4} textAnchor="end" fontSize="11" fill="#6b7280">
              {Math.round(max * f)}
            </text>
          </g>
        ))}
        {stats.buckets.map((b, i) => {
          const x = PAD.l + i * bw + bw * 0.15;
          const w = Math.max(1, bw * 0.7);
          const hp = (b.permitted / max) * ih;
          const hb = (b.blocked / max) * ih;
          return (
            <g key={b.start}>
              <title>{`${tickLabel(b.start, stats.bucketMs)}: ${b.permitted} permitted, ${b.blocked} blocked`}</title>
              {b.permitted > 0 ? <rect x={x} y={PAD.t + ih - hp} width={w} height={hp} fill={OK} rx="1.5" /> : null}
              {b.blocked > 0 ? <rect x={x} y={PAD.t + ih - hp - hb} width={w} height={hb} fill={BAD} rx="1.5" /> : null}
              {i % every === 0 ? (
                <text x={PAD.l + i * bw + bw / 2} y={H - 8} textAnchor="middle" fontSize="11" fill="#6b7280">
                  {tickLabel(b.start, stats.bucketMs)}
                </text>
              ) : null}
            </g>
          );
        })}
        <line x1={PAD.l} x2={W - PAD.r} y1={PAD.t + ih} y2={PAD.t + ih} stroke="#9ca3af" />
      </svg>
      <figcaption className="legend">
        <span>
          <i style={{ background: OK }} />
          Permitted ({stats.totals.permitted})
        </span>
        <span>
          <i style={{ background: BAD }} />
          Blocked ({stats.totals.blocked})
        </span>
        {stats.truncated ? <span>Counts cover the newest 100,000 decisions of the window.</span> : null}
      </figcaption>
    </figure>
  );
}
