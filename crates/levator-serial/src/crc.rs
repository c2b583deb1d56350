//! CRC-16/CCITT-FALSE (also catalogued as CRC-16/IBM-3740), the checksum of
//! `levator` binary frames.
//!
//! Parameters (Rocksoft model): width 16, poly `0x1021`, init `0xFFFF`,
//! refin `false`, refout `false`, xorout `0x0000`, check `0x29B1`
//! (the CRC of the ASCII bytes `"123456789"`).
//!
//! ```
//! assert_eq!(levator_serial::crc::crc16(b"123456789"), 0x29B1);
//! ```

/// Generator polynomial x^16 + x^12 + x^5 + 1.
pub const POLY: u16 = 0x1021;
/// Initial register value.
pub const INIT: u16 = 0xFFFF;
/// CRC of `"123456789"` (the catalogue check value).
pub const CHECK: u16 = 0x29B1;

const TABLE: [u16; 256] = make_table();

const fn make_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ POLY
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// Continues a CRC over more bytes (start with [`INIT`]).
#[inline]
pub fn update(mut crc: u16, bytes: &[u8]) -> u16 {
    for &b in bytes {
        crc = (crc << 8) ^ TABLE[usize::from((crc >> 8) as u8 ^ b)];
    }
    crc
}

/// CRC-16/CCITT-FALSE of `bytes`.
#[inline]
pub fn crc16(bytes: &[u8]) -> u16 {
    update(INIT, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-by-bit reference, independent of the table.
    fn slow(bytes: &[u8]) -> u16 {
        let mut crc = INIT;
        for &b in bytes {
            crc ^= u16::from(b) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ POLY
                } else {
                    crc << 1
                };
            }
        }
        crc
    }

    #[test]
    fn check_value() {
        assert_eq!(crc16(b"123456789"), CHECK);
        assert_eq!(slow(b"123456789"), CHECK);
        assert_eq!(crc16(b""), 0xFFFF);
    }

    #[test]
    fn table_matches_bitwise() {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for n in 0..data.len() {
            assert_eq!(crc16(&data[..n]), slow(&data[..n]));
        }
        let (a, b) = data.split_at(100);
        assert_eq!(update(crc16(a), b), crc16(&data));
    }
}
