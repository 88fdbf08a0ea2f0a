// Entry point of the native libbpf shim: registers the NativeAddon surface described in
// client/src/native/types.ts (the raw form that client/src/native/index.ts adapts).
#include <napi.h>

#include "addon-data.h"
#include "bpf-link.h"
#include "bpf-object.h"
#include "fd-attach.h"
#include "global-data.h"
#include "kernel-probe.h"
#include "kernel-inventory.h"
#include "kernel-objects.h"
#include "libbpf-log.h"
#include "map-ops.h"
#include "packet-socket.h"
#include "perf-buffer.h"
#include "perf-event.h"
#include "ring-buffer.h"
#include "ring-view.h"

namespace lbc {

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallLibbpfPrinter();
  auto* data = new AddonData();
  data->objectConstructor = Napi::Persistent(BpfObject::Define(env));
  data->linkConstructor = Napi::Persistent(BpfLink::Define(env));
  data->ringBufferConstructor = Napi::Persistent(RingBuffer::Define(env));
  data->ringViewConstructor = Napi::Persistent(RingView::Define(env));
  data->perfBufferConstructor = Napi::Persistent(PerfBuffer::Define(env));
  data->packetSocketConstructor = Napi::Persistent(PacketSocket::Define(env));
  env.SetInstanceData(data);

  exports.Set("openObject", Napi::Function::New<BpfObject::Open>(env, "openObject"));
  exports.Set("mapLookup", Napi::Function::New<MapLookup>(env, "mapLookup"));
  exports.Set("mapUpdate", Napi::Function::New<MapUpdate>(env, "mapUpdate"));
  exports.Set("mapDelete", Napi::Function::New<MapDelete>(env, "mapDelete"));
  exports.Set("mapNextKey", Napi::Function::New<MapNextKey>(env, "mapNextKey"));
  exports.Set("openRingBuffer", Napi::Function::New<RingBuffer::Open>(env, "openRingBuffer"));
  exports.Set("openPerfBuffer", Napi::Function::New<PerfBuffer::Open>(env, "openPerfBuffer"));
  exports.Set("openRingBufferArena", Napi::Function::New<RingBuffer::OpenArena>(env, "openRingBufferArena"));
  exports.Set("openRingBufferView", Napi::Function::New<RingView::Open>(env, "openRingBufferView"));
  exports.Set("openPerfBufferArena", Napi::Function::New<PerfBuffer::OpenArena>(env, "openPerfBufferArena"));
  exports.Set("perfEventOpen", Napi::Function::New<PerfEventOpen>(env, "perfEventOpen"));
  exports.Set("closeFd", Napi::Function::New<CloseFd>(env, "closeFd"));
  exports.Set("numPossibleCpus", Napi::Function::New<NumPossibleCpus>(env, "numPossibleCpus"));
  exports.Set("listLinks", Napi::Function::New<ListLinks>(env, "listLinks"));
  exports.Set("objectIds", Napi::Function::New<ObjectIds>(env, "objectIds"));
  exports.Set("programInfo", Napi::Function::New<ProgramInfo>(env, "programInfo"));
  exports.Set("mapInfo", Napi::Function::New<MapInfo>(env, "mapInfo"));
  exports.Set("linkInfo", Napi::Function::New<LinkInfo>(env, "linkInfo"));
  exports.Set("btfInfo", Napi::Function::New<BtfInfo>(env, "btfInfo"));
  exports.Set("mapFdById", Napi::Function::New<MapFdById>(env, "mapFdById"));
  exports.Set("objGet", Napi::Function::New<ObjGet>(env, "objGet"));
  exports.Set("enableRunTimeStats", Napi::Function::New<EnableRunTimeStats>(env, "enableRunTimeStats"));
  exports.Set("mapGlobalData", Napi::Function::New<MapGlobalData>(env, "mapGlobalData"));
  exports.Set("unmapGlobalData", Napi::Function::New<UnmapGlobalData>(env, "unmapGlobalData"));
  exports.Set("probeMapType", Napi::Function::New<ProbeMapType>(env, "probeMapType"));
  exports.Set("probeProgType", Napi::Function::New<ProbeProgType>(env, "probeProgType"));
  exports.Set("probeTrampoline", Napi::Function::New<ProbeTrampoline>(env, "probeTrampoline"));
  exports.Set("readIterator", Napi::Function::New<ReadIterator>(env, "readIterator"));
  exports.Set("attachSocketFilter", Napi::Function::New<AttachSocketFilter>(env, "attachSocketFilter"));
  exports.Set("detachSocketFilter", Napi::Function::New<DetachSocketFilter>(env, "detachSocketFilter"));
  exports.Set("openPacketSocket", Napi::Function::New<PacketSocket::Open>(env, "openPacketSocket"));
  exports.Set("detachTcHook", Napi::Function::New<DetachTcHook>(env, "detachTcHook"));
  return exports;
}

}  // namespace lbc

static Napi::Object InitLbcNative(Napi::Env env, Napi::Object exports) { return lbc::Init(env, exports); }

NODE_API_MODULE(lbc_native, InitLbcNative)
