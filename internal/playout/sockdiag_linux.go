package playout

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Sizes and offsets of the kernel's sock_diag structures
// (linux/inet_diag.h): inet_diag_req_v2 is 56 bytes, inet_diag_msg 72;
// in both, the socket id (inet_diag_sockid: sport, dport big-endian, then
// addresses, interface and a 64-bit cookie) starts at byte 4.
const (
	sizeofDiagReq  = 56
	sizeofDiagMsg  = 72
	diagIDSport    = 4  // inet_diag_msg.id.idiag_sport
	diagIDCookie   = 44 // inet_diag_msg.id.idiag_cookie
	inetDiagInfo   = 2  // INET_DIAG_INFO: the struct tcp_info attribute
	tcpEstablished = 1
)

// offsetBytesAcked is where tcpi_bytes_acked sits in struct tcp_info
// (Linux 4.1 and later).
var offsetBytesAcked = int(unsafe.Offsetof(unix.TCPInfo{}.Bytes_acked))

// SentBytes returns, for each established TCP connection on one of the
// local ports (smbd's server side), the bytes its peer acknowledged (what
// clients read, plus overhead), keyed by socket cookie. It asks the
// kernel over NETLINK_SOCK_DIAG (no privilege; IPv4 and IPv6).
func SentBytes(ports []int) (map[uint64]int64, error) {
	out := map[uint64]int64{}
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if err := dumpTCP(family, ports, out); err != nil {
			return nil, fmt.Errorf("socket statistics: %w", err)
		}
	}
	return out, nil
}

// dumpTCP adds the matching sockets of one address family to out.
func dumpTCP(family uint8, ports []int, out map[uint64]int64) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return os.NewSyscallError("bind", err)
	}

	req := make([]byte, unix.SizeofNlMsghdr+sizeofDiagReq)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], 1) // sequence
	body := req[unix.SizeofNlMsghdr:]
	body[0], body[1] = family, unix.IPPROTO_TCP
	body[2] = 1 << (inetDiagInfo - 1)         // ask for tcp_info
	ne.PutUint32(body[4:], 1<<tcpEstablished) // states
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return os.NewSyscallError("sendto", err)
	}

	want := map[uint16]bool{}
	for _, p := range ports {
		want[uint16(p)] = true
	}
	buf := make([]byte, 64<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return os.NewSyscallError("recvfrom", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if errno := int32(ne.Uint32(m.Data)); errno != 0 {
						return os.NewSyscallError("sock_diag", unix.Errno(-errno))
					}
				}
				return errors.New("sock_diag: error message")
			}
			if len(m.Data) < sizeofDiagMsg {
				continue
			}
			if !want[binary.BigEndian.Uint16(m.Data[diagIDSport:])] {
				continue
			}
			cookie := ne.Uint64(m.Data[diagIDCookie:])
			if acked, ok := bytesAcked(m.Data[sizeofDiagMsg:]); ok {
				out[cookie] = acked
			}
		}
	}
}

// bytesAcked finds tcp_info among the attributes and reads its
// tcpi_bytes_acked.
func bytesAcked(attrs []byte) (int64, bool) {
	ne := binary.NativeEndian
	for len(attrs) >= unix.SizeofRtAttr {
		l, typ := int(ne.Uint16(attrs[0:])), ne.Uint16(attrs[2:])
		if l < unix.SizeofRtAttr || l > len(attrs) {
			return 0, false
		}
		if typ == inetDiagInfo {
			info := attrs[unix.SizeofRtAttr:l]
			if len(info) < offsetBytesAcked+8 {
				return 0, false // a kernel older than 4.1
			}
			return int64(ne.Uint64(info[offsetBytesAcked:])), true
		}
		attrs = attrs[(l+unix.RTA_ALIGNTO-1)&^(unix.RTA_ALIGNTO-1):]
	}
	return 0, false
}
