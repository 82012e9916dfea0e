/** A path field of /proc/<pid>/mountinfo decoded: the kernel writes space, tab, newline and backslash as octal (`\040`). Pure. */
export function decodeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
