//! What a [`Channel`](crate::Channel) carries: values encoded as bytes, no
//! serde.
//!
//! The format is fixed and small, so that tasks (and other languages) agree
//! on it: integers little-endian at their width (`usize`/`isize` as 64
//! bits), `bool` one byte 0 or 1, `char` as its `u32`, floats as their
//! IEEE bits; `String`/`str` and `Vec<T>`/`[T]` a `u64` count then the
//! items (UTF-8 bytes for strings); `[T; N]` and tuples their items in
//! order; `Option<T>` a byte 0 (`None`) or 1 then the value; `()` nothing.
//! Decoding checks what it reads (`InvalidData` for a bad `bool`, `char`
//! or UTF-8) and never allocates ahead of the bytes that arrived, whatever
//! count a peer sends.

use std::io;

use crate::objects::Fifo;

/// A value that can be sent: appends its encoding to `out`.
pub trait Encode {
    /// Appends the encoding of `self`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Appends the items of a slice (a fast path for bytes).
    #[doc(hidden)]
    fn encode_slice(items: &[Self], out: &mut Vec<u8>)
    where
        Self: Sized,
    {
        for x in items {
            x.encode(out);
        }
    }
}

/// A value that can be sent and received.
pub trait Wire: Encode + Sized {
    /// Reads one value.
    fn decode(src: &mut Decoder<'_>) -> io::Result<Self>;

    /// Reads `n` values (a fast path for bytes).
    #[doc(hidden)]
    fn decode_vec(n: usize, src: &mut Decoder<'_>) -> io::Result<Vec<Self>> {
        let mut v = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            v.push(Self::decode(src)?);
        }
        Ok(v)
    }
}

enum Source<'a> {
    Fifo(&'a Fifo),
    Slice(&'a [u8]),
}

/// Where [`Wire::decode`] reads from: a FIFO (a channel's receiving side) or
/// a byte slice.
pub struct Decoder<'a> {
    src: Source<'a>,
}

impl<'a> Decoder<'a> {
    /// Decodes from the bytes of a FIFO.  The end of the stream is an error
    /// with the errno `EPIPE`.
    pub fn fifo(f: &'a Fifo) -> Decoder<'a> {
        Decoder { src: Source::Fifo(f) }
    }

    /// Decodes from a slice (running out is `UnexpectedEof`).
    pub fn slice(b: &'a [u8]) -> Decoder<'a> {
        Decoder { src: Source::Slice(b) }
    }

    /// What a slice decoder has not read yet (empty for a FIFO).
    pub fn rest(&self) -> &'a [u8] {
        match self.src {
            Source::Slice(b) => b,
            Source::Fifo(_) => &[],
        }
    }

    /// Exactly `buf.len()` bytes.
    pub fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        match &mut self.src {
            Source::Fifo(f) => f.read_exact_bytes(buf),
            Source::Slice(b) => {
                if b.len() < buf.len() {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "dios: value cut short"));
                }
                let (head, tail) = b.split_at(buf.len());
                buf.copy_from_slice(head);
                *b = tail;
                Ok(())
            }
        }
    }

    /// `N` bytes.
    pub fn read_array<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut a = [0u8; N];
        self.read_exact(&mut a)?;
        Ok(a)
    }

    /// A `u64` count as a `usize`.
    fn read_len(&mut self) -> io::Result<usize> {
        let n = u64::from_le_bytes(self.read_array()?);
        usize::try_from(n).map_err(|_| invalid("a length beyond this machine's address space"))
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("dios: received {what}"))
}

/// Encodes one value into a new vector.
pub fn to_bytes<T: Encode + ?Sized>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    v.encode(&mut out);
    out
}

/// Decodes one value from the front of `b`, returning the rest too.
pub fn from_bytes<T: Wire>(b: &[u8]) -> io::Result<(T, &[u8])> {
    let mut d = Decoder::slice(b);
    let v = T::decode(&mut d)?;
    Ok((v, d.rest()))
}

macro_rules! int_wire {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
        impl Wire for $t {
            fn decode(src: &mut Decoder<'_>) -> io::Result<Self> {
                Ok(<$t>::from_le_bytes(src.read_array()?))
            }
        }
    )*};
}
int_wire!(u16, u32, u64, u128, i8, i16, i32, i64, i128, f32, f64);

impl Encode for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn encode_slice(items: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(items);
    }
}

impl Wire for u8 {
    fn decode(src: &mut Decoder<'_>) -> io::Result<Self> {
        Ok(src.read_array::<1>()?[0])
    }
    fn decode_vec(n: usize, src: &mut Decoder<'_>) -> io::Result<Vec<u8>> {
        // grows only as bytes arrive: a bogus count costs no memory
        const CHUNK: usize = 64 * 1024;
        let mut v = Vec::with_capacity(n.min(CHUNK));
        while v.len() < n {
            let old = v.len();
            v.resize(old + (n - old).min(CHUNK), 0);
            src.read_exact(&mut v[old..])?;
        }
        Ok(v)
    }
}

impl Encode for usize {
    fn encode(&self, out: &mut Vec<u8>) {
        (*self as u64).encode(out);
    }
}
impl Wire for usize {
    fn decode(src: &mut Decoder<'_>) -> io::Result<Self> {
        usize::try_from(u64::decode(src)?).map_err(|_| invalid("a usize beyond this machine's"))
    }
}
impl Encode for isize {
    fn encode(&self, out: &mut Vec<u8>) {
        (*self as i64).encode(out);
    }
}
impl Wire for isize {
    fn decode(src: &mut Decoder<'_>) -> io::Result<Self> {
        isize::try_from(i64::decode(src)?).map_err(|_| invalid("an isize beyond this machine's"))
    }
}

impl Encode for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
}
impl Wire for bool {
    fn decode(src: &mut Decoder<'_>) -> io::Result<Self> {
        match u8::decode(src)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(invalid("a bool that is neither 0 nor 1")),
        }
    }
}

impl Encode for char {
    fn encode(&self, out: &mut Vec<u8>) {
        (*self as u32).encode(out);
    }
}
impl Wire for char {
    fn decode(src: &mut Decoder<'_>) -> io::Result<Self> {
        char::from_u32(u32::decode(src)?).ok_or_else(|| invalid("an invalid char"))
    }
}

impl Encode for () {
    fn encode(&self, _out: &mut Vec<u8>) {}
}
impl Wire for () {
    fn decode(_src: &mut Decoder<'_>) -> io::Result<Self> {
        Ok(())
    }
}

impl Encode for str {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.len() as u64).encode(out);
        out.extend_from_slice(self.as_bytes());
    }
}
impl Encode for String {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_str().encode(out);
    }
}
impl Wire for String {
    fn decode(src: &mut Decoder<'_>) -> io::Result<Self> {
        let n = src.read_len()?;
        String::from_utf8(u8::decode_vec(n, src)?).map_err(|_| invalid("a string that is not UTF-8"))
    }
}

impl<T: Encode> Encode for [T] {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.len() as u64).encode(out);
        T::encode_slice(self, out);
    }
}
impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_slice().encode(out);
    }
}
impl<T: Wire> Wire for Vec<T> {
    fn decode(src: &mut Decoder<'_>) -> io::Result<Self> {
        let n = src.read_len()?;
        T::decode_vec(n, src)
    }
}

impl<T: Encode, const N: usize> Encode for [T; N] {
    fn encode(&self, out: &mut Vec<u8>) {
        T::encode_slice(self, out);
    }
}
impl<T: Wire, const N: usize> Wire for [T; N] {
    fn decode(src: &mut Decoder<'_>) -> io::Result<Self> {
        let v = T::decode_vec(N, src)?;
        Ok(v.try_into().unwrap_or_else(|_| unreachable!("decode_vec returned {N} items")))
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode(out);
            }
        }
    }
}
impl<T: Wire> Wire for Option<T> {
    fn decode(src: &mut Decoder<'_>) -> io::Result<Self> {
        match u8::decode(src)? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(src)?)),
            _ => Err(invalid("an Option tag that is neither 0 nor 1")),
        }
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode(&self, out: &mut Vec<u8>) {
        (**self).encode(out);
    }
}

impl<T: Encode + ?Sized> Encode for Box<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        (**self).encode(out);
    }
}
impl<T: Wire> Wire for Box<T> {
    fn decode(src: &mut Decoder<'_>) -> io::Result<Self> {
        Ok(Box::new(T::decode(src)?))
    }
}

macro_rules! tuple_wire {
    ($(($($n:tt $t:ident),+))*) => {$(
        impl<$($t: Encode),+> Encode for ($($t,)+) {
            fn encode(&self, out: &mut Vec<u8>) {
                $(self.$n.encode(out);)+
            }
        }
        impl<$($t: Wire),+> Wire for ($($t,)+) {
            fn decode(src: &mut Decoder<'_>) -> io::Result<Self> {
                Ok(($($t::decode(src)?,)+))
            }
        }
    )*};
}
tuple_wire! {
    (0 A)
    (0 A, 1 B)
    (0 A, 1 B, 2 C)
    (0 A, 1 B, 2 C, 3 D)
    (0 A, 1 B, 2 C, 3 D, 4 E)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round<T: Wire + PartialEq + std::fmt::Debug>(v: T) {
        let b = to_bytes(&v);
        let (back, rest) = from_bytes::<T>(&b).unwrap();
        assert_eq!(back, v);
        assert!(rest.is_empty());
    }

    #[test]
    fn round_trips() {
        round(0u8);
        round(u64::MAX);
        round(-5i32);
        round(i128::MIN);
        round(usize::MAX);
        round(true);
        round('λ');
        round(1.5f64);
        round(String::from("héllo"));
        round(vec![1u8, 2, 3]);
        round(vec![vec![1u32], vec![], vec![7, 8]]);
        round([9u16; 5]);
        round((1u8, String::from("x"), vec![true, false], Some(3i64), None::<u8>));
        round(());
    }

    #[test]
    fn format_is_fixed() {
        assert_eq!(to_bytes(&0x0102_0304u32), [4, 3, 2, 1]);
        assert_eq!(to_bytes("ab"), [2, 0, 0, 0, 0, 0, 0, 0, b'a', b'b']);
        assert_eq!(to_bytes(&vec![7u8]), [1, 0, 0, 0, 0, 0, 0, 0, 7]);
        assert_eq!(to_bytes(&[1u8, 2]), [1, 2]);
        assert_eq!(to_bytes(&(1u8, true)), [1, 1]);
        assert_eq!(to_bytes(&Some(2u8)), [1, 2]);
    }

    #[test]
    fn bad_input_is_refused() {
        let e = from_bytes::<bool>(&[2]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let e = from_bytes::<String>(&[1, 0, 0, 0, 0, 0, 0, 0, 0xff]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let e = from_bytes::<char>(&0xD800u32.to_le_bytes()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        // a huge count with few bytes behind it: an error, not an allocation
        let mut b = to_bytes(&u64::MAX);
        b.push(1);
        let e = from_bytes::<Vec<u8>>(&b).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        let e = from_bytes::<Vec<u64>>(&b).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
