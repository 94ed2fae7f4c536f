/** A whole number of seconds as people say it: "1 h", "30 min", "2 d", "45 s". */
export function humanDuration(sec: number): string {
  if (sec % 86400 === 0) return `${sec / 86400} d`;
  if (sec % 3600 === 0) return `${sec / 3600} h`;
  if (sec % 60 === 0) return `${sec / 60} min`;
  return `${sec} s`;
}
