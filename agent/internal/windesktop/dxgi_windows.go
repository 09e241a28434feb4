package windesktop

import (
	"errors"
	"fmt"
	"image"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// DXGI desktop duplication through COM vtables, without cgo: an interface pointer points to a
// pointer to its table of methods, each called with the interface pointer first. The method
// indices are the order of the Vtbl structs in mingw-w64's dxgi.h, dxgi1_2.h and d3d11.h.
var (
	dxgiDLL  = windows.NewLazySystemDLL("dxgi.dll")
	d3d11DLL = windows.NewLazySystemDLL("d3d11.dll")

	procCreateDXGIFactory1 = dxgiDLL.NewProc("CreateDXGIFactory1")
	procD3D11CreateDevice  = d3d11DLL.NewProc("D3D11CreateDevice")
)

// Method indices.
const (
	mQueryInterface = 0
	mRelease        = 2

	mFactoryEnumAdapters1 = 12 // IDXGIFactory1
	mAdapterEnumOutputs   = 7  // IDXGIAdapter
	mOutputGetDesc        = 7  // IDXGIOutput
	mOutputDuplicate      = 22 // IDXGIOutput1::DuplicateOutput

	mDupGetDesc          = 7 // IDXGIOutputDuplication
	mDupAcquireNextFrame = 8
	mDupDirtyRects       = 9
	mDupMoveRects        = 10
	mDupPointerShape     = 11
	mDupReleaseFrame     = 14

	mTextureGetDesc      = 10 // ID3D11Texture2D
	mDeviceCreateTexture = 5  // ID3D11Device::CreateTexture2D
	mContextMap          = 14 // ID3D11DeviceContext
	mContextUnmap        = 15
	mContextCopyResource = 47
)

var (
	iidDXGIFactory1   = windows.GUID{Data1: 0x770aae78, Data2: 0xf26f, Data3: 0x4dba, Data4: [8]byte{0xa8, 0x29, 0x25, 0x3c, 0x83, 0xd1, 0xb3, 0x87}}
	iidDXGIOutput1    = windows.GUID{Data1: 0x00cddea8, Data2: 0x939b, Data3: 0x4b83, Data4: [8]byte{0xa3, 0x40, 0xa6, 0x85, 0x22, 0x66, 0x66, 0xcc}}
	iidD3D11Texture2D = windows.GUID{Data1: 0x6f15aaf2, Data2: 0xd208, Data3: 0x4e89, Data4: [8]byte{0x9a, 0xb4, 0x48, 0x95, 0x35, 0xd3, 0x4f, 0x9c}}
)

const (
	formatB8G8R8A8    = 87 // DXGI_FORMAT_B8G8R8A8_UNORM, what duplication gives
	d3d11SDKVersion   = 7
	usageStaging      = 3 // D3D11_USAGE_STAGING
	cpuAccessRead     = 0x20000
	mapRead           = 1 // D3D11_MAP_READ
	driverTypeUnknown = 0 // D3D_DRIVER_TYPE_UNKNOWN, as an adapter is given
	createBGRASupport = 0x20
	mAddRef           = 1
)

// comObj is a COM interface as its pointer sees it.
type comObj struct{ vtbl *[64]uintptr }

// call calls a method that returns an HRESULT. Like LazyProc.Call, it keeps what its uintptr
// arguments point to on the heap and alive until the method returns.
//
//go:uintptrescapes
func (o *comObj) call(method int, args ...uintptr) error {
	r, _, _ := syscall.SyscallN(o.vtbl[method], append([]uintptr{uintptr(unsafe.Pointer(o))}, args...)...)
	return hr(r)
}

// callVoid calls a method that returns nothing.
//
//go:uintptrescapes
func (o *comObj) callVoid(method int, args ...uintptr) {
	syscall.SyscallN(o.vtbl[method], append([]uintptr{uintptr(unsafe.Pointer(o))}, args...)...)
}

func (o *comObj) release() {
	if o != nil {
		o.callVoid(mRelease)
	}
}

func (o *comObj) query(iid *windows.GUID) (*comObj, error) {
	var p *comObj
	if err := o.call(mQueryInterface, uintptr(unsafe.Pointer(iid)), uintptr(unsafe.Pointer(&p))); err != nil {
		return nil, err
	}
	return p, nil
}

func hr(r uintptr) error {
	if int32(r) >= 0 {
		return nil
	}
	return hresult(uint32(r))
}

// dxgiOutputDesc is DXGI_OUTPUT_DESC.
type dxgiOutputDesc struct {
	deviceName [32]uint16
	coords     winRect
	attached   int32
	rotation   uint32
	monitor    uintptr
}

// dxgiDuplDesc is DXGI_OUTDUPL_DESC.
type dxgiDuplDesc struct {
	width, height uint32
	refreshN      uint32
	refreshD      uint32
	format        uint32
	scanline      uint32
	scaling       uint32
	rotation      uint32
	imageInSysMem int32
}

// texture2DDesc is D3D11_TEXTURE2D_DESC.
type texture2DDesc struct {
	width, height, mipLevels, arraySize uint32
	format                              uint32
	sampleCount, sampleQuality          uint32
	usage, bindFlags, cpuAccess, misc   uint32
}

// mappedSubresource is D3D11_MAPPED_SUBRESOURCE.
type mappedSubresource struct {
	data       unsafe.Pointer
	rowPitch   uint32
	depthPitch uint32
}

// openDuplications duplicates every output attached to the desktop, or says why it cannot.
// monitors are the layout the capture must cover.
func openDuplications(monitors []image.Rectangle) (outs []*dupOutput, err error) {
	if err := procCreateDXGIFactory1.Find(); err != nil {
		return nil, fmt.Errorf("dxgi.dll: %w", err)
	}
	if err := procD3D11CreateDevice.Find(); err != nil {
		return nil, fmt.Errorf("d3d11.dll: %w", err)
	}
	var factory *comObj
	if r, _, _ := procCreateDXGIFactory1.Call(uintptr(unsafe.Pointer(&iidDXGIFactory1)), uintptr(unsafe.Pointer(&factory))); hr(r) != nil {
		return nil, fmt.Errorf("CreateDXGIFactory1: %w", hr(r))
	}
	defer factory.release()
	type found struct {
		adapter, output *comObj
		desc            outputDesc
	}
	var all []found
	defer func() {
		for _, f := range all {
			f.output.release()
			f.adapter.release()
		}
	}()
	for i := uintptr(0); ; i++ {
		var adapter *comObj
		err := factory.call(mFactoryEnumAdapters1, i, uintptr(unsafe.Pointer(&adapter)))
		if errors.Is(err, errNotFound) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("EnumAdapters1 %d: %w", i, err)
		}
		for j := uintptr(0); ; j++ {
			var output *comObj
			err := adapter.call(mAdapterEnumOutputs, j, uintptr(unsafe.Pointer(&output)))
			if errors.Is(err, errNotFound) {
				break
			} else if err != nil {
				adapter.release()
				return nil, fmt.Errorf("EnumOutputs %d of adapter %d: %w", j, i, err)
			}
			var d dxgiOutputDesc
			if err := output.call(mOutputGetDesc, uintptr(unsafe.Pointer(&d))); err != nil {
				output.release()
				adapter.release()
				return nil, fmt.Errorf("IDXGIOutput::GetDesc: %w", err)
			}
			adapter.callVoid(mAddRef) //: each found output holds its adapter
			all = append(all, found{adapter, output, outputDesc{name: windows.UTF16ToString(d.deviceName[:]),
				bounds: d.coords.rect(), rotation: d.rotation, attached: d.attached != 0}})
		}
		adapter.release()
	}
	descs := make([]outputDesc, len(all))
	for i, f := range all {
		descs[i] = f.desc
	}
	if err := checkOutputs(descs, monitors); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			for _, o := range outs {
				o.dup.close()
			}
			outs = nil
		}
	}()
	for _, f := range all {
		if !f.desc.attached {
			continue
		}
		d, err := duplicate(f.adapter, f.output)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", f.desc.name, err)
		}
		outs = append(outs, &dupOutput{dup: d, bounds: f.desc.bounds, pix: make([]byte, f.desc.bounds.Dx()*f.desc.bounds.Dy()*4)})
		if d.w != f.desc.bounds.Dx() || d.h != f.desc.bounds.Dy() {
			return nil, fmt.Errorf("output %s: duplication is %dx%d, the output %v", f.desc.name, d.w, d.h, f.desc.bounds)
		}
	}
	return outs, nil
}

// winDup is one output's duplication with its Direct3D device and the staging texture its
// frames are copied into for reading.
type winDup struct {
	device, ctx, dup *comObj
	w, h             int
	staging          *comObj
	frame            *comObj // the held frame's texture
}

func duplicate(adapter, output *comObj) (*winDup, error) {
	d := &winDup{}
	var level uint32
	r, _, _ := procD3D11CreateDevice.Call(uintptr(unsafe.Pointer(adapter)), driverTypeUnknown, 0, createBGRASupport, 0, 0,
		d3d11SDKVersion, uintptr(unsafe.Pointer(&d.device)), uintptr(unsafe.Pointer(&level)), uintptr(unsafe.Pointer(&d.ctx)))
	if err := hr(r); err != nil {
		return nil, fmt.Errorf("D3D11CreateDevice: %w", err)
	}
	o1, err := output.query(&iidDXGIOutput1)
	if err != nil {
		d.close()
		return nil, fmt.Errorf("IDXGIOutput1: %w", err)
	}
	defer o1.release()
	if err := o1.call(mOutputDuplicate, uintptr(unsafe.Pointer(d.device)), uintptr(unsafe.Pointer(&d.dup))); err != nil {
		d.close()
		return nil, fmt.Errorf("DuplicateOutput: %w", err)
	}
	var desc dxgiDuplDesc
	d.dup.callVoid(mDupGetDesc, uintptr(unsafe.Pointer(&desc)))
	d.w, d.h = int(desc.width), int(desc.height)
	return d, nil
}

func (d *winDup) acquireFrame(timeoutMs uint32, info *frameInfo) error {
	var res *comObj
	if err := d.dup.call(mDupAcquireNextFrame, uintptr(timeoutMs), uintptr(unsafe.Pointer(info)), uintptr(unsafe.Pointer(&res))); err != nil {
		return err
	}
	defer res.release()
	tex, err := res.query(&iidD3D11Texture2D)
	if err != nil {
		d.dup.call(mDupReleaseFrame)
		return fmt.Errorf("frame texture: %w", err)
	}
	d.frame = tex
	return nil
}

func (d *winDup) frameMoveRects(buf []moveRect) (int, error) {
	var need uint32
	size := len(buf) * int(unsafe.Sizeof(moveRect{}))
	err := d.dup.call(mDupMoveRects, uintptr(size), uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(unsafe.Pointer(&need)))
	return int(need) / int(unsafe.Sizeof(moveRect{})), err
}

func (d *winDup) frameDirtyRects(buf []winRect) (int, error) {
	var need uint32
	size := len(buf) * int(unsafe.Sizeof(winRect{}))
	err := d.dup.call(mDupDirtyRects, uintptr(size), uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(unsafe.Pointer(&need)))
	return int(need) / int(unsafe.Sizeof(winRect{})), err
}

func (d *winDup) framePointerShape(buf []byte, info *pointerShapeInfo) (int, error) {
	var need uint32
	err := d.dup.call(mDupPointerShape, uintptr(len(buf)), uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(unsafe.Pointer(&need)), uintptr(unsafe.Pointer(info)))
	return int(need), err
}

// copyFrame copies the held frame into the staging texture, maps it and copies rects out.
func (d *winDup) copyFrame(dst []byte, stride int, rects []image.Rectangle) error {
	if d.frame == nil {
		return errors.New("no frame held")
	}
	var fd texture2DDesc
	d.frame.callVoid(mTextureGetDesc, uintptr(unsafe.Pointer(&fd)))
	if fd.format != formatB8G8R8A8 {
		return fmt.Errorf("frame format %d, not B8G8R8A8", fd.format)
	}
	if err := d.ensureStaging(fd); err != nil {
		return err
	}
	d.ctx.callVoid(mContextCopyResource, uintptr(unsafe.Pointer(d.staging)), uintptr(unsafe.Pointer(d.frame)))
	var m mappedSubresource
	if err := d.ctx.call(mContextMap, uintptr(unsafe.Pointer(d.staging)), 0, mapRead, 0, uintptr(unsafe.Pointer(&m))); err != nil {
		return fmt.Errorf("map the staging texture: %w", err)
	}
	defer d.ctx.callVoid(mContextUnmap, uintptr(unsafe.Pointer(d.staging)), 0)
	pitch := int(m.rowPitch)
	src := unsafe.Slice((*byte)(m.data), pitch*int(fd.height))
	whole := image.Rect(0, 0, min(int(fd.width), stride/4), min(int(fd.height), len(dst)/max(stride, 1)))
	for _, r := range rects {
		r = r.Intersect(whole)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			copy(dst[y*stride+r.Min.X*4:y*stride+r.Max.X*4], src[y*pitch+r.Min.X*4:])
		}
	}
	return nil
}

func (d *winDup) ensureStaging(fd texture2DDesc) error {
	if d.staging != nil {
		var sd texture2DDesc
		d.staging.callVoid(mTextureGetDesc, uintptr(unsafe.Pointer(&sd)))
		if sd.width == fd.width && sd.height == fd.height {
			return nil
		}
		d.staging.release()
		d.staging = nil
	}
	sd := texture2DDesc{width: fd.width, height: fd.height, mipLevels: 1, arraySize: 1, format: fd.format,
		sampleCount: 1, usage: usageStaging, cpuAccess: cpuAccessRead}
	if err := d.device.call(mDeviceCreateTexture, uintptr(unsafe.Pointer(&sd)), 0, uintptr(unsafe.Pointer(&d.staging))); err != nil {
		return fmt.Errorf("CreateTexture2D %dx%d staging: %w", fd.width, fd.height, err)
	}
	return nil
}

func (d *winDup) releaseFrame() error {
	if d.frame != nil {
		d.frame.release()
		d.frame = nil
	}
	return d.dup.call(mDupReleaseFrame)
}

func (d *winDup) close() {
	if d.frame != nil {
		d.releaseFrame()
	}
	for _, o := range []*comObj{d.staging, d.dup, d.ctx, d.device} {
		o.release()
	}
	*d = winDup{}
}
