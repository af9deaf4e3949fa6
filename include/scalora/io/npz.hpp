// SPDX-License-Identifier: Apache-2.0
// numpy .npz read/write: a ZIP archive whose members "<name>.npy" are npy streams,
// STORED (numpy.savez) or DEFLATED (numpy.savez_compressed), with ZIP64 records
// (numpy always writes ZIP64 local headers). Uses zlib for inflate, deflate and CRC-32.
//
// Reading trusts the central directory for sizes and checks, before decompressing:
// every record signature and length, member data inside [0, central directory),
// members not overlapping, declared sizes possible for DEFLATE (ratio <= 1032), then
// the CRC-32 and length of every member and the npy inside it.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "scalora/io/detail/bytes.hpp"
#include "scalora/io/file.hpp"
#include "scalora/io/io_error.hpp"
#include "scalora/io/npy.hpp"
#include "scalora/io/tensor.hpp"

namespace scalora::io {

/// How write_npz stores members: STORED as numpy.savez, DEFLATED as numpy.savez_compressed.
enum class npz_compression { stored, deflated };

namespace detail {

inline constexpr std::uint32_t kZipLocalSig = 0x04034b50;
inline constexpr std::uint32_t kZipCentralSig = 0x02014b50;
inline constexpr std::uint32_t kZipEndSig = 0x06054b50;
inline constexpr std::uint32_t kZip64EndSig = 0x06064b50;
inline constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
inline constexpr std::uint64_t kZip32Max = 0xffffffff;
/// DEFLATE cannot expand data by more than 1032:1 (258-byte matches in ~2 bits).
inline constexpr std::uint64_t kDeflateMaxRatio = 1032;

/// One member as the central directory describes it.
struct ZipMember {
  std::string name;
  std::uint32_t flags = 0;
  std::uint32_t method = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed = 0;
  std::uint64_t uncompressed = 0;
  std::uint64_t local_offset = 0;
};

struct ZipDirectory {
  std::vector<ZipMember> members;
  std::uint64_t directory_offset = 0;  // member data must end before this
};

/// CRC-32 of a byte range, read in 1 MiB chunks.
inline std::uint32_t crc32_of(const ByteSource& src, std::uint64_t offset, std::uint64_t n) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  std::vector<unsigned char> buffer(static_cast<std::size_t>(std::min<std::uint64_t>(n, 1 << 20)));
  while (n > 0) {
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(n, buffer.size()));
    src.read(offset, chunk, buffer.data());
    crc = ::crc32(crc, buffer.data(), static_cast<uInt>(chunk));
    offset += chunk;
    n -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

inline std::uint32_t crc32_of(const unsigned char* p, std::uint64_t n, std::uint32_t crc = 0) {
  uLong c = crc;
  while (n > 0) {
    const uInt chunk = static_cast<uInt>(std::min<std::uint64_t>(n, 1u << 30));
    c = ::crc32(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<std::uint32_t>(c);
}

/// Finds the end records and parses the central directory.
inline ZipDirectory read_zip_directory(const ByteSource& src) {
  const std::string& file = src.name();
  const std::uint64_t size = src.size();
  if (size < 22) throw io_error(io_problem::truncated, file, "", "too short for a ZIP end record");
  const std::uint64_t tail_len = std::min<std::uint64_t>(size, 22 + 65535);
  const std::uint64_t tail_start = size - tail_len;
  const std::vector<unsigned char> tail = src.read_vector(tail_start, static_cast<std::size_t>(tail_len));
  // The end record is the last signature whose comment reaches exactly to the end.
  std::uint64_t end_pos = 0;
  bool found = false;
  for (std::uint64_t p = tail_len - 22 + 1; p-- > 0;) {
    if (load_le(&tail[p], 4) == kZipEndSig && p + 22 + load_le(&tail[p + 20], 2) == tail_len) {
      end_pos = p;
      found = true;
      break;
    }
  }
  if (!found)
    throw io_error(io_problem::bad_zip, file, "", "no end-of-central-directory record (not a ZIP file, or truncated)");
  const unsigned char* e = &tail[end_pos];
  std::uint64_t disk = load_le(e + 4, 2), directory_disk = load_le(e + 6, 2);
  std::uint64_t entries_here = load_le(e + 8, 2), entries = load_le(e + 10, 2);
  std::uint64_t directory_size = load_le(e + 12, 4), directory_offset = load_le(e + 16, 4);
  std::uint64_t directory_limit = tail_start + end_pos;  // the directory ends before this

  if (entries == 0xffff || entries_here == 0xffff || directory_size == kZip32Max || directory_offset == kZip32Max) {
    if (directory_limit < 20) throw io_error(io_problem::bad_zip, file, "", "ZIP64 end locator missing");
    unsigned char locator[20];
    src.read(directory_limit - 20, 20, locator);
    if (load_le(locator, 4) != kZip64LocatorSig)
      throw io_error(io_problem::bad_zip, file, "", "ZIP64 end locator missing");
    const std::uint64_t record_offset = load_le(locator + 8, 8);
    if (record_offset > directory_limit - 20 || directory_limit - 20 - record_offset < 56)
      throw io_error(io_problem::bad_zip, file, "", "ZIP64 end record outside the archive");
    unsigned char record[56];
    src.read(record_offset, 56, record);
    if (load_le(record, 4) != kZip64EndSig) throw io_error(io_problem::bad_zip, file, "", "bad ZIP64 end record signature");
    disk = load_le(record + 16, 4);
    directory_disk = load_le(record + 20, 4);
    entries_here = load_le(record + 24, 8);
    entries = load_le(record + 32, 8);
    directory_size = load_le(record + 40, 8);
    directory_offset = load_le(record + 48, 8);
    directory_limit = record_offset;
  }
  if (disk != 0 || directory_disk != 0 || entries_here != entries)
    throw io_error(io_problem::unsupported_feature, file, "", "multi-disk ZIP archives are not supported");
  std::uint64_t directory_end;
  if (!checked_add(directory_offset, directory_size, directory_end) || directory_end > directory_limit)
    throw io_error(io_problem::bad_zip, file, "",
                   "central directory [" + std::to_string(directory_offset) + ", +" + std::to_string(directory_size) +
                       ") outside the archive");
  if (entries > directory_size / 46)
    throw io_error(io_problem::truncated, file, "",
                   "central directory of " + std::to_string(directory_size) + " bytes cannot hold " +
                       std::to_string(entries) + " entries");
  const std::vector<unsigned char> dir = src.read_vector(directory_offset, static_cast<std::size_t>(directory_size));

  ZipDirectory out;
  out.directory_offset = directory_offset;
  std::size_t pos = 0;
  for (std::uint64_t i = 0; i < entries; ++i) {
    if (dir.size() - pos < 46)
      throw io_error(io_problem::truncated, file, "", "central directory ends inside entry " + std::to_string(i));
    const unsigned char* c = &dir[pos];
    if (load_le(c, 4) != kZipCentralSig)
      throw io_error(io_problem::bad_zip, file, "", "bad signature of central directory entry " + std::to_string(i));
    ZipMember m;
    m.flags = static_cast<std::uint32_t>(load_le(c + 8, 2));
    m.method = static_cast<std::uint32_t>(load_le(c + 10, 2));
    m.crc = static_cast<std::uint32_t>(load_le(c + 16, 4));
    m.compressed = load_le(c + 20, 4);
    m.uncompressed = load_le(c + 24, 4);
    const std::size_t name_len = load_le(c + 28, 2), extra_len = load_le(c + 30, 2), comment_len = load_le(c + 32, 2);
    std::uint64_t start_disk = load_le(c + 34, 2);
    m.local_offset = load_le(c + 42, 4);
    if (dir.size() - pos - 46 < name_len + extra_len + comment_len)
      throw io_error(io_problem::truncated, file, "", "central directory ends inside entry " + std::to_string(i));
    m.name.assign(reinterpret_cast<const char*>(c + 46), name_len);
    // ZIP64 extended information (id 1): the fields saturated above, in this order.
    if (m.uncompressed == kZip32Max || m.compressed == kZip32Max || m.local_offset == kZip32Max || start_disk == 0xffff) {
      const unsigned char* x = c + 46 + name_len;
      std::size_t xp = 0;
      bool done = false;
      while (!done && extra_len - xp >= 4) {
        const std::size_t id = load_le(x + xp, 2), len = load_le(x + xp + 2, 2);
        if (len > extra_len - xp - 4) break;
        if (id == 1) {
          const unsigned char* f = x + xp + 4;
          std::size_t left = len;
          auto take = [&](std::uint64_t& field, int bytes) {
            if (left < static_cast<std::size_t>(bytes))
              throw io_error(io_problem::bad_zip, file, m.name, "ZIP64 extra field too short");
            field = load_le(f, bytes);
            f += bytes;
            left -= static_cast<std::size_t>(bytes);
          };
          if (m.uncompressed == kZip32Max) take(m.uncompressed, 8);
          if (m.compressed == kZip32Max) take(m.compressed, 8);
          if (m.local_offset == kZip32Max) take(m.local_offset, 8);
          if (start_disk == 0xffff) take(start_disk, 4);
          done = true;
        }
        xp += 4 + len;
      }
      if (!done) throw io_error(io_problem::bad_zip, file, m.name, "ZIP64 extra field missing");
    }
    if (start_disk != 0) throw io_error(io_problem::unsupported_feature, file, m.name, "member on another disk");
    out.members.push_back(std::move(m));
    pos += 46 + name_len + extra_len + comment_len;
  }
  return out;
}

/// Inflates raw DEFLATE `in` into exactly `expected` bytes.
inline std::vector<unsigned char> inflate_member(const std::vector<unsigned char>& in, std::uint64_t expected,
                                                 const std::string& file, const std::string& tensor) {
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw io_error(io_problem::decompress_failed, file, tensor, "inflateInit2 failed");
  struct End {
    z_stream& zs;
    ~End() { inflateEnd(&zs); }
  } end{zs};
  std::vector<unsigned char> out(static_cast<std::size_t>(expected) + 1);  // one spare byte detects excess
  const unsigned char* next_in = in.data();
  std::uint64_t in_left = in.size(), out_left = out.size();
  unsigned char* next_out = out.data();
  for (;;) {
    const uInt in_chunk = static_cast<uInt>(std::min<std::uint64_t>(in_left, 1u << 30));
    const uInt out_chunk = static_cast<uInt>(std::min<std::uint64_t>(out_left, 1u << 30));
    zs.next_in = const_cast<unsigned char*>(next_in);
    zs.avail_in = in_chunk;
    zs.next_out = next_out;
    zs.avail_out = out_chunk;
    const int ret = inflate(&zs, Z_NO_FLUSH);
    const uInt used = in_chunk - zs.avail_in, made = out_chunk - zs.avail_out;
    next_in += used;
    in_left -= used;
    next_out += made;
    out_left -= made;
    if (ret == Z_STREAM_END) break;
    if (out_left == 0)
      throw io_error(io_problem::decompress_failed, file, tensor,
                     "inflates to more than the " + std::to_string(expected) + " bytes the directory declares");
    if (ret != Z_OK || (used == 0 && made == 0))
      throw io_error(io_problem::decompress_failed, file, tensor,
                     std::string("corrupt or truncated DEFLATE stream") + (zs.msg ? std::string(": ") + zs.msg : ""));
  }
  const std::uint64_t produced = out.size() - out_left;
  if (produced != expected)
    throw io_error(io_problem::decompress_failed, file, tensor,
                   "inflates to " + std::to_string(produced) + " bytes, the directory declares " + std::to_string(expected));
  out.resize(static_cast<std::size_t>(expected));
  return out;
}

/// Reads every member of an npz archive as a tensor named after the member without ".npy".
inline TensorFile parse_npz(const ByteSource& src) {
  const std::string& file = src.name();
  const ZipDirectory dir = read_zip_directory(src);

  struct Placed {
    std::uint64_t begin, end, data;
    std::size_t index;
  };
  std::vector<Placed> placed;
  std::map<std::string, int> names;
  for (std::size_t i = 0; i < dir.members.size(); ++i) {
    const ZipMember& m = dir.members[i];
    if (m.name.size() < 4 || m.name.compare(m.name.size() - 4, 4, ".npy") != 0)
      throw io_error(io_problem::not_npy_member, file, m.name, "npz members are <name>.npy");
    const std::string tensor = m.name.substr(0, m.name.size() - 4);
    if (!names.emplace(tensor, 0).second) throw io_error(io_problem::duplicate_name, file, tensor, "two members have this name");
    if (m.flags & 0x41) throw io_error(io_problem::unsupported_feature, file, tensor, "encrypted member");
    if (m.method != 0 && m.method != 8)
      throw io_error(io_problem::unsupported_compression, file, tensor,
                     "compression method " + std::to_string(m.method) + " (only 0 STORED and 8 DEFLATED)");
    if (m.local_offset > dir.directory_offset || dir.directory_offset - m.local_offset < 30)
      throw io_error(io_problem::offsets_out_of_range, file, tensor, "local header outside the archive");
    unsigned char local[30];
    src.read(m.local_offset, 30, local);
    if (load_le(local, 4) != kZipLocalSig) throw io_error(io_problem::bad_zip, file, tensor, "bad local header signature");
    const std::uint64_t name_len = load_le(local + 26, 2), extra_len = load_le(local + 28, 2);
    const std::uint64_t data = m.local_offset + 30 + name_len + extra_len;
    std::uint64_t end;
    if (data > dir.directory_offset || !checked_add(data, m.compressed, end) || end > dir.directory_offset)
      throw io_error(io_problem::offsets_out_of_range, file, tensor,
                     "member data ends past the central directory at " + std::to_string(dir.directory_offset));
    const std::vector<unsigned char> local_name = src.read_vector(m.local_offset + 30, static_cast<std::size_t>(name_len));
    if (std::string(local_name.begin(), local_name.end()) != m.name)
      throw io_error(io_problem::bad_zip, file, tensor, "local header and central directory name differ");
    if (m.method == 0 && m.uncompressed != m.compressed)
      throw io_error(io_problem::bad_zip, file, tensor, "STORED member with different sizes");
    std::uint64_t bound;
    if (m.method == 8 && (!checked_mul(m.compressed, kDeflateMaxRatio, bound) || m.uncompressed > bound + 64))
      throw io_error(io_problem::bad_zip, file, tensor,
                     "declared size " + std::to_string(m.uncompressed) + " impossible from " +
                         std::to_string(m.compressed) + " DEFLATE bytes");
    placed.push_back({m.local_offset, end, data, i});
  }
  std::vector<Placed> sorted = placed;
  std::sort(sorted.begin(), sorted.end(), [](const Placed& a, const Placed& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i].begin < sorted[i - 1].end) {
      const std::string& a = dir.members[sorted[i].index].name;
      const std::string& b = dir.members[sorted[i - 1].index].name;
      throw io_error(io_problem::overlap, file, a.substr(0, a.size() - 4), "member overlaps '" + printable(b) + "'");
    }

  TensorFile out;
  for (const Placed& p : placed) {
    const ZipMember& m = dir.members[p.index];
    const std::string tensor = m.name.substr(0, m.name.size() - 4);
    const auto crc_error = [&](std::uint32_t got) {
      char text[64];
      std::snprintf(text, sizeof text, "CRC-32 %08x, the directory says %08x", static_cast<unsigned>(got),
                    static_cast<unsigned>(m.crc));
      return io_error(io_problem::crc_mismatch, file, tensor, text);
    };
    if (m.method == 0) {
      const std::uint32_t crc = crc32_of(src, p.data, m.compressed);
      if (crc != m.crc) throw crc_error(crc);
      out.tensors.push_back(parse_npy(WindowSource(src, p.data, m.compressed), tensor));
    } else {
      const std::vector<unsigned char> packed = src.read_vector(p.data, static_cast<std::size_t>(m.compressed));
      const std::vector<unsigned char> npy = inflate_member(packed, m.uncompressed, file, tensor);
      const std::uint32_t crc = crc32_of(npy.data(), npy.size());
      if (crc != m.crc) throw crc_error(crc);
      out.tensors.push_back(parse_npy(MemorySource(npy.data(), npy.size(), file), tensor));
    }
  }
  return out;
}

/// Raw DEFLATE of header + data (level 6, as Python's zipfile).
inline std::vector<unsigned char> deflate_member(const std::vector<unsigned char>& header,
                                                 const std::vector<unsigned char>& data, const std::string& file,
                                                 const std::string& tensor) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw io_error(io_problem::write_failed, file, tensor, "deflateInit2 failed");
  struct End {
    z_stream& zs;
    ~End() { deflateEnd(&zs); }
  } end{zs};
  std::vector<unsigned char> out;
  unsigned char buffer[1 << 16];
  // Runs deflate until it leaves output space unused (then all input is consumed).
  const auto pump = [&](int flush) {
    int ret;
    do {
      zs.next_out = buffer;
      zs.avail_out = sizeof buffer;
      ret = deflate(&zs, flush);
      if (ret == Z_STREAM_ERROR) throw io_error(io_problem::write_failed, file, tensor, "deflate failed");
      out.insert(out.end(), buffer, buffer + (sizeof buffer - zs.avail_out));
    } while (zs.avail_out == 0);
    return ret;
  };
  for (const std::vector<unsigned char>* part : {&header, &data}) {
    const unsigned char* next = part->data();
    std::uint64_t left = part->size();
    while (left > 0) {
      const uInt chunk = static_cast<uInt>(std::min<std::uint64_t>(left, 1u << 30));
      zs.next_in = const_cast<unsigned char*>(next);
      zs.avail_in = chunk;
      pump(Z_NO_FLUSH);
      next += chunk;
      left -= chunk;
    }
  }
  zs.avail_in = 0;
  while (pump(Z_FINISH) != Z_STREAM_END) {
  }
  return out;
}

/// A member ready to write: local header fields and, for DEFLATED, its bytes.
struct NpzMemberPlan {
  std::string name;  // "<tensor>.npy"
  std::vector<unsigned char> npy_header;
  std::vector<unsigned char> packed;  // DEFLATED bytes (empty for STORED)
  std::uint32_t crc = 0;
  std::uint64_t uncompressed = 0;
  std::uint64_t compressed = 0;
  std::uint64_t local_offset = 0;
};

/// Validates the tensors (consistent, unique names, a numpy dtype) and prepares
/// each member: npy header, CRC-32, sizes, and the DEFLATED bytes when compressing.
inline std::vector<NpzMemberPlan> plan_npz(const std::vector<Tensor>& tensors, npz_compression compression,
                                           const std::string& file) {
  check_tensors_for_writing(tensors, file);
  std::vector<NpzMemberPlan> plans;
  for (const Tensor& t : tensors) {
    NpzMemberPlan p;
    p.name = t.name + ".npy";
    if (p.name.size() > 0xffff) throw io_error(io_problem::invalid_tensor, file, t.name, "name longer than ZIP allows");
    p.npy_header = npy_header(t, file);
    p.uncompressed = p.npy_header.size() + t.data.size();
    p.crc = crc32_of(t.data.data(), t.data.size(), crc32_of(p.npy_header.data(), p.npy_header.size()));
    if (compression == npz_compression::deflated) p.packed = deflate_member(p.npy_header, t.data, file, t.name);
    p.compressed = compression == npz_compression::deflated ? p.packed.size() : p.uncompressed;
    plans.push_back(std::move(p));
  }
  return plans;
}

/// The fields a local header and a central entry share, "version needed" to "extra
/// length" (ZIP APPNOTE 4.3.7 / 4.3.12): version 4.5 with ZIP64 (2.0 otherwise), the
/// UTF-8 flag for a non-ASCII name, time 00:00 and date 1980-01-01.
inline void append_zip_fields(std::vector<unsigned char>& out, bool zip64, const NpzMemberPlan& p, std::uint16_t method,
                              std::uint64_t compressed_field, std::uint64_t uncompressed_field, std::size_t extra_len) {
  std::uint16_t flags = 0;
  for (unsigned char ch : p.name)
    if (ch >= 0x80) flags = 0x800;
  append_le(out, zip64 ? 45 : 20, 2);
  append_le(out, flags, 2);
  append_le(out, method, 2);
  append_le(out, 0, 2);                          // time
  append_le(out, (0 << 9) | (1 << 5) | 1, 2);  // date
  append_le(out, p.crc, 4);
  append_le(out, compressed_field, 4);
  append_le(out, uncompressed_field, 4);
  append_le(out, p.name.size(), 2);
  append_le(out, extra_len, 2);
}

/// Writes the archive for `plans` (from plan_npz over the same tensors) to `sink`:
/// local headers and data, central directory, end records. force_zip64 writes every
/// ZIP64 record even for small archives (tests the reader's ZIP64 path).
inline void write_npz(ByteSink& sink, std::vector<NpzMemberPlan>& plans, const std::vector<Tensor>& tensors,
                      npz_compression compression, bool force_zip64 = false) {
  const bool deflated = compression == npz_compression::deflated;
  const std::uint16_t method = deflated ? 8 : 0;
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    NpzMemberPlan& p = plans[i];
    p.local_offset = offset;
    const bool zip64 = force_zip64 || p.uncompressed >= kZip32Max || p.compressed >= kZip32Max;
    std::vector<unsigned char> h;
    append_le(h, kZipLocalSig, 4);
    append_zip_fields(h, zip64, p, method, zip64 ? kZip32Max : p.compressed, zip64 ? kZip32Max : p.uncompressed,
                      zip64 ? 20 : 0);
    h.insert(h.end(), p.name.begin(), p.name.end());
    if (zip64) {
      append_le(h, 1, 2);
      append_le(h, 16, 2);
      append_le(h, p.uncompressed, 8);
      append_le(h, p.compressed, 8);
    }
    sink.write(h);
    if (deflated) {
      sink.write(p.packed);
    } else {
      sink.write(p.npy_header);
      sink.write(tensors[i].data);
    }
    offset += h.size() + p.compressed;
  }

  const std::uint64_t directory_offset = offset;
  std::vector<unsigned char> d;
  for (const NpzMemberPlan& p : plans) {
    const bool big_u = force_zip64 || p.uncompressed >= kZip32Max;
    const bool big_c = force_zip64 || p.compressed >= kZip32Max;
    const bool big_o = force_zip64 || p.local_offset >= kZip32Max;
    const std::uint16_t extra = (big_u ? 8 : 0) + (big_c ? 8 : 0) + (big_o ? 8 : 0);
    append_le(d, kZipCentralSig, 4);
    append_le(d, (3 << 8) | 45, 2);  // made by: Unix, ZIP 4.5
    append_zip_fields(d, extra != 0, p, method, big_c ? kZip32Max : p.compressed, big_u ? kZip32Max : p.uncompressed,
                      extra ? extra + 4 : 0);
    append_le(d, 0, 2);                             // comment length
    append_le(d, 0, 2);                             // disk
    append_le(d, 0, 2);                             // internal attributes
    append_le(d, std::uint64_t{0100644} << 16, 4);  // -rw-r--r--
    append_le(d, big_o ? kZip32Max : p.local_offset, 4);
    d.insert(d.end(), p.name.begin(), p.name.end());
    if (extra) {
      append_le(d, 1, 2);
      append_le(d, extra, 2);
      if (big_u) append_le(d, p.uncompressed, 8);
      if (big_c) append_le(d, p.compressed, 8);
      if (big_o) append_le(d, p.local_offset, 8);
    }
  }
  const std::uint64_t directory_size = d.size();
  const std::uint64_t count = plans.size();
  const bool zip64_end = force_zip64 || count >= 0xffff || directory_size >= kZip32Max || directory_offset >= kZip32Max;
  if (zip64_end) {
    const std::uint64_t record_offset = directory_offset + directory_size;
    append_le(d, kZip64EndSig, 4);
    append_le(d, 44, 8);  // size of the rest of the record
    append_le(d, (3 << 8) | 45, 2);
    append_le(d, 45, 2);
    append_le(d, 0, 4);
    append_le(d, 0, 4);
    append_le(d, count, 8);
    append_le(d, count, 8);
    append_le(d, directory_size, 8);
    append_le(d, directory_offset, 8);
    append_le(d, kZip64LocatorSig, 4);
    append_le(d, 0, 4);
    append_le(d, record_offset, 8);
    append_le(d, 1, 4);
  }
  append_le(d, kZipEndSig, 4);
  append_le(d, 0, 2);
  append_le(d, 0, 2);
  append_le(d, zip64_end ? 0xffff : count, 2);
  append_le(d, zip64_end ? 0xffff : count, 2);
  append_le(d, zip64_end ? kZip32Max : directory_size, 4);
  append_le(d, zip64_end ? kZip32Max : directory_offset, 4);
  append_le(d, 0, 2);
  sink.write(d);
}

}  // namespace detail

/// Parses npz bytes; tensors in central-directory order, metadata empty.
/// @throws io_error for every malformed archive or member.
inline TensorFile parse_npz(const unsigned char* bytes, std::size_t size, const std::string& source_name) {
  return detail::parse_npz(detail::MemorySource(bytes, size, source_name));
}

/// Reads an .npz file (numpy.savez or numpy.savez_compressed).
inline TensorFile read_npz(const std::string& path) { return detail::parse_npz(detail::FileSource(path)); }

/// The bytes write_npz writes. BF16 tensors are io_error unsupported_dtype.
inline std::vector<unsigned char> serialize_npz(const std::vector<Tensor>& tensors,
                                                npz_compression compression = npz_compression::stored) {
  std::vector<detail::NpzMemberPlan> plans = detail::plan_npz(tensors, compression, "");
  detail::VectorSink sink;
  detail::write_npz(sink, plans, tensors, compression);
  return std::move(sink.bytes);
}

/// Writes an .npz file atomically (as write_safetensors does); members "<name>.npy".
/// Everything is validated (and compressed) before the temporary file is created.
inline void write_npz(const std::string& path, const std::vector<Tensor>& tensors,
                      npz_compression compression = npz_compression::stored) {
  std::vector<detail::NpzMemberPlan> plans = detail::plan_npz(tensors, compression, path);
  AtomicFile sink(path);
  detail::write_npz(sink, plans, tensors, compression);
  sink.commit();
}

}  // namespace scalora::io
