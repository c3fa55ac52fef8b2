/**
 * `strftime` for templates (`strftime_now("%d %b %Y")`), as C's strftime in the "C" locale on
 * local time — what llama.cpp's `strftime_now` gives. English names whatever the host locale.
 * Unknown directives are left as written.
 */

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December",
];

const pad = (n: number, width = 2, fill = "0"): string => String(n).padStart(width, fill);

function dayOfYear(date: Date): number {
  const start = new Date(date.getFullYear(), 0, 1);
  const startUtc = Date.UTC(start.getFullYear(), 0, 1);
  const dateUtc = Date.UTC(date.getFullYear(), date.getMonth(), date.getDate());
  return Math.round((dateUtc - startUtc) / 86_400_000) + 1;
}

function utcOffset(date: Date): string {
  const minutes = -date.getTimezoneOffset();
  const sign = minutes < 0 ? "-" : "+";
  return sign + pad(Math.floor(Math.abs(minutes) / 60)) + pad(Math.abs(minutes) % 60);
}

const DIRECTIVES: Readonly<Record<string, (date: Date) => string>> = {
  a: (d) => DAYS[d.getDay()].slice(0, 3),
  A: (d) => DAYS[d.getDay()],
  b: (d) => MONTHS[d.getMonth()].slice(0, 3),
  h: (d) => MONTHS[d.getMonth()].slice(0, 3),
  B: (d) => MONTHS[d.getMonth()],
  d: (d) => pad(d.getDate()),
  e: (d) => pad(d.getDate(), 2, " "),
  H: (d) => pad(d.getHours()),
  I: (d) => pad(d.getHours() % 12 === 0 ? 12 : d.getHours() % 12),
  j: (d) => pad(dayOfYear(d), 3),
  m: (d) => pad(d.getMonth() + 1),
  M: (d) => pad(d.getMinutes()),
  p: (d) => (d.getHours() < 12 ? "AM" : "PM"),
  S: (d) => pad(d.getSeconds()),
  y: (d) => pad(d.getFullYear() % 100),
  Y: (d) => String(d.getFullYear()),
  z: utcOffset,
  F: (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
  T: (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`,
  D: (d) => `${pad(d.getMonth() + 1)}/${pad(d.getDate())}/${pad(d.getFullYear() % 100)}`,
  "%": () => "%",
};

/** `date` formatted by `format` ("%d %b %Y" → "26 Jul 2024"). */
export function strftime(date: Date, format: string): string {
  return format.replace(/%(.)/gs, (directive: string, letter: string) => DIRECTIVES[letter]?.(date) ?? directive);
}
