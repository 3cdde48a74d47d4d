/** Display formats shared by the adapters and the webviews (no imports, so webviews can use it). */

/** A byte count in binary units: "512 B", "1.5 KiB", "300.0 MiB"; "?" when unknown. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
