/**
 * RFC 4180 CSV parser (quoted fields may hold commas, doubled quotes and newlines).
 *
 * Written here because no installed package parses such files: tfjs-data's `tf.data.csv`
 * splits the input into lines before it looks at quotes, so a message with a quoted newline
 * (the StockTwits data has them) becomes two broken rows.
 *
 * Accepts CRLF or LF record ends; a final record without a line end is kept. A quote inside
 * an unquoted field is taken literally (lenient, as Python's csv module does).
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let inQuotes = false;
  let fieldStarted = false; // distinguishes "" (an empty record) from a record of one empty field
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          inQuotes = false;
        }
      } else {
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field.length === 0) {
      inQuotes = true;
      fieldStarted = true;
    } else if (ch === ",") {
      row.push(field);
      field = "";
      fieldStarted = true;
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      if (fieldStarted || field.length > 0 || row.length > 0) {
        row.push(field);
        rows.push(row);
      }
      row = [];
      field = "";
      fieldStarted = false;
    } else {
      field += ch;
      fieldStarted = true;
    }
  }
  if (inQuotes) throw new Error("CSV ends inside a quoted field");
  if (fieldStarted || field.length > 0 || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Parses a CSV with a header row into objects keyed by the header names. */
export function parseCsvRecords(text: string): Record<string, string>[] {
  const rows = parseCsv(text);
  if (rows.length === 0) return [];
  const header = rows[0];
  return rows.slice(1).map((r, k) => {
    if (r.length !== header.length) {
      throw new Error(`CSV record ${k + 1} has ${r.length} fields, header has ${header.length}`);
    }
    const rec: Record<string, string> = {};
    header.forEach((h, j) => (rec[h] = r[j]));
    return rec;
  });
}
