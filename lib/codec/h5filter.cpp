#include "codec/h5filter.hpp"

#include <fmt/core.h>
#include <hdf5.h>

#include <cstring>
#include <vector>

#include "codec/samples.hpp"
#include "codec/tez.hpp"
#include "core/log.hpp"
#include "io/hdf5_native.hpp"

namespace sciflow::codec::h5filter {
namespace {

// The element type, if tezip codes it.
Result<DType> dtype_of(hid_t type) {
  ASSIGN_OR_RETURN(DType dt, io::h5::dtype_of_type(type, "tezip filter"));
  if (!codec_supports(dt)) return unsupported("tezip filter: element type not supported (u8 u16 u32 i8 i16 i32 f32)");
  return dt;
}

htri_t can_apply(hid_t dcpl, hid_t type, hid_t space) {
  (void)dcpl;
  int rank = H5Sget_simple_extent_ndims(space);
  if (rank != 3 && rank != 4) return 0;
  auto dt = dtype_of(type);
  if (!dt) return 0;
  if (H5Tget_order(type) != H5T_ORDER_LE && dtype_size(*dt) > 1) return 0;
  return 1;
}

herr_t set_local(hid_t dcpl, hid_t type, hid_t space) {
  (void)space;
  unsigned flags = 0;
  size_t n = kCdValues;
  unsigned cd[kCdValues] = {1, 0, 0, 0, 0, 0, 0, 1};
  if (H5Pget_filter_by_id2(dcpl, kFilterId, &flags, &n, cd, 0, nullptr, nullptr) < 0) return -1;
  hsize_t chunk[4] = {1, 1, 1, 1};
  int rank = H5Pget_chunk(dcpl, 4, chunk);
  if (rank != 3 && rank != 4) return -1;
  auto dt = dtype_of(type);
  if (!dt) return -1;
  cd[0] = 1;
  if (n < 2) cd[1] = 0;
  if (n < 3) cd[2] = 0;
  cd[3] = static_cast<unsigned>(*dt);
  cd[4] = static_cast<unsigned>(chunk[0]);
  cd[5] = static_cast<unsigned>(chunk[1]);
  cd[6] = static_cast<unsigned>(chunk[2]);
  cd[7] = rank == 4 ? static_cast<unsigned>(chunk[3]) : 1;
  return H5Pmodify_filter(dcpl, kFilterId, flags, kCdValues, cd);
}

Result<tez::Header> header_from(const unsigned* cd, size_t n) {
  if (n < kCdValues || cd[0] != 1) return corrupt("tezip filter: unknown parameters");
  tez::Header h;
  h.dtype = static_cast<DType>(cd[3]);
  if (!codec_supports(h.dtype)) return corrupt("tezip filter: bad element type");
  h.frames = cd[4];
  h.height = cd[5];
  h.width = cd[6];
  h.channels = cd[7];
  if (cd[1] == 1) {
    float b;
    std::memcpy(&b, &cd[2], 4);
    h.mode = "abs";
    h.bound = b;
  }
  h.source_format = "hdf5";
  h.created_by = "tezip HDF5 filter";
  h.format_major = 1;  // chunks keep version 1's coding (one least-squares set per fit): older plugins read them
  tez::choose_layout(&h, std::max<int64_t>(1, h.frames));
  return h;
}

size_t filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes, size_t* buf_size,
              void** buf) {
  auto fail = [](const Status& s) -> size_t {
    log::error("{}", s.message());
    return 0;
  };
  try {
    auto h = header_from(cd_values, cd_nelmts);
    if (!h) return fail(h.status());
    if (flags & H5Z_FLAG_REVERSE) {
      auto reader = tez::Reader::open_memory(std::span(static_cast<const uint8_t*>(*buf), nbytes), "HDF5 chunk");
      if (!reader) return fail(reader.status());
      const tez::Header& rh = reader->header();
      size_t out_bytes = static_cast<size_t>(rh.frames * rh.frame_bytes());
      if (rh.frame_bytes() != h->frame_bytes() || rh.frames != h->frames)
        return fail(corrupt("tezip filter: chunk shape differs from the dataset's"));
      void* out = H5allocate_memory(out_bytes, false);
      if (!out) return fail(Status(Code::kResourceExhausted, "tezip filter: out of memory"));
      for (;;) {
        std::vector<uint8_t> payload;
        auto next = reader->next(&payload);
        if (!next) {
          H5free_memory(out);
          return fail(next.status());
        }
        if (!*next) break;
        const tez::GroupInfo& g = **next;
        Status s = tez::decode_group_record(rh, g, payload, static_cast<uint8_t*>(out) + g.first_frame * rh.frame_bytes(), 1);
        if (!s.is_ok()) {
          H5free_memory(out);
          return fail(s);
        }
      }
      H5free_memory(*buf);
      *buf = out;
      *buf_size = out_bytes;
      return out_bytes;
    }
    if (nbytes != static_cast<size_t>(h->frames * h->frame_bytes()))
      return fail(corrupt(fmt::format("tezip filter: chunk of {} bytes, expected {}", nbytes, h->frames * h->frame_bytes())));
    auto coded = tez::encode_buffer(*h, static_cast<const uint8_t*>(*buf), 1);
    if (!coded) return fail(coded.status());
    void* out = H5allocate_memory(coded->size(), false);
    if (!out) return fail(Status(Code::kResourceExhausted, "tezip filter: out of memory"));
    std::memcpy(out, coded->data(), coded->size());
    H5free_memory(*buf);
    *buf = out;
    *buf_size = coded->size();
    return coded->size();
  } catch (const std::exception& e) {
    return fail(internal_error(fmt::format("tezip filter: {}", e.what())));
  }
}

const H5Z_class2_t kClass = {
    H5Z_CLASS_T_VERS,
    static_cast<H5Z_filter_t>(kFilterId),
    1,  // encoder present
    1,  // decoder present
    "tezip: predictive compression of detector image series (sciflow)",
    can_apply,
    set_local,
    filter,
};

}  // namespace

const void* filter_class() { return &kClass; }

Status register_filter() {
  if (H5Zregister(&kClass) < 0) return internal_error("HDF5: cannot register the tezip filter");
  return Status::ok();
}

}  // namespace sciflow::codec::h5filter
