"""Every entry of hhbc/kernels/c906/hhbc_rvv071.h (the RVV 0.7.1 / XTheadVector encoding
table) against the 0.7.1 spec's bit layout, and, for the OP-V instructions whose encoding is
unchanged in RVV 1.0, against what clang assembles for the 1.0 mnemonic.

How: each macro is expanded inside a small C function and compiled to assembly (zig cc -S),
which yields the `.insn` line the macro emits with real registers; those lines (and the 1.0
mnemonics) are assembled by clang (zig cc -c on a .s file) and the words read back from the
object's .text. The words are then decoded in Python with the spec's field layout (written
out below, independent of the header's own format macros) and compared field by field.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from c_harness import needs_zig

ROOT = Path(__file__).resolve().parents[2]
HEADER = ROOT / "hhbc" / "kernels" / "c906" / "hhbc_rvv071.h"

pytestmark = [needs_zig]

# the spec's funct6 values (RVV 0.7.1 tables), written as in the spec
OPF = 1   # OPFVV
OPFF = 5  # OPFVF
OPI = 0   # OPIVV
OPIX = 4  # OPIVX
OPII = 3  # OPIVI
OPM = 2   # OPMVV
OPMX = 6  # OPMVX

# name -> (macro arguments, expected fields, 1.0 mnemonic or None)
# fields of OP-V: f6 (binary string), f3, vm, vd, vs2, vs1 (vs1/rs1/imm field); "s" marks a
# scalar register field whose number comes from the compiler's choice (checked against the
# register named in the .insn line).
V, W, X = "v8", "v16", "v24"


def opv(f6, f3, vm=1, vd=8, vs2=16, vs1=24):
    return dict(kind="opv", f6=int(f6, 2), f3=f3, vm=vm, vd=vd, vs2=vs2, vs1=vs1)


SPEC: dict[str, tuple[tuple[str, ...], dict, str | None]] = {}


def fvv(name, f6, mn, swap=False, vm=1):
    """vd, a, b: vs2 = a, vs1 = b (swap: multiply-add order vd, vs1, vs2)"""
    args = (V, W, X)
    vs2, vs1 = (24, 16) if swap else (16, 24)
    SPEC[name] = (args, opv(f6, OPF, vm, 8, vs2, vs1), mn)


def fvf(name, f6, mn, swap=False, vm=1):
    args = (V, "f", W) if swap else (V, W, "f")
    SPEC[name] = (args, opv(f6, OPFF, vm, 8, 16, "s"), mn)


for nm, f6, mn in [
    ("VFADD", "000000", "vfadd"), ("VFSUB", "000010", "vfsub"), ("VFMIN", "000100", "vfmin"),
    ("VFMAX", "000110", "vfmax"), ("VFDIV", "100000", "vfdiv"), ("VFMUL", "100100", "vfmul"),
    ("VMFEQ", "011000", "vmfeq"), ("VMFLE", "011001", "vmfle"), ("VMFLT", "011011", "vmflt"),
    ("VMFNE", "011100", "vmfne"),
]:
    fvv(f"HV_{nm}_VV", f6, f"{mn}.vv v8, v16, v24")
    fvf(f"HV_{nm}_VF", f6, f"{mn}.vf v8, v16, fa0")
for nm, f6, mn in [("VFSGNJ", "001000", "vfsgnj"), ("VFSGNJN", "001001", "vfsgnjn"),
                   ("VFSGNJX", "001010", "vfsgnjx"), ("VFWADD", "110000", "vfwadd"),
                   ("VFWMUL", "111000", "vfwmul")]:
    fvv(f"HV_{nm}_VV", f6, f"{mn}.vv v8, v16, v24")
fvf("HV_VFWMUL_VF", "111000", "vfwmul.vf v8, v16, fa0")
fvv("HV_VFWADD_WV", "110100", "vfwadd.wv v8, v16, v24")
for nm, f6, mn in [("VFREDSUM", "000001", "vfredusum"), ("VFREDOSUM", "000011", "vfredosum"),
                   ("VFREDMIN", "000101", "vfredmin"), ("VFREDMAX", "000111", "vfredmax"),
                   ("VFWREDSUM", "110001", "vfwredusum")]:
    fvv(f"HV_{nm}_VS", f6, f"{mn}.vs v8, v16, v24")
for nm, f6 in [("VMFGT", "011101"), ("VMFGE", "011111"), ("VFRDIV", "100001"), ("VFRSUB", "100111")]:
    fvf(f"HV_{nm}_VF", f6, f"{nm.lower()}.vf v8, v16, fa0")
fvv("HV_VFMUL_VV_M", "100100", "vfmul.vv v8, v16, v24, v0.t", vm=0)
fvf("HV_VFMUL_VF_M", "100100", "vfmul.vf v8, v16, fa0, v0.t", vm=0)
for nm, f6 in [("VFMADD", "101000"), ("VFNMADD", "101001"), ("VFMSUB", "101010"), ("VFNMSUB", "101011"),
               ("VFMACC", "101100"), ("VFNMACC", "101101"), ("VFMSAC", "101110"), ("VFNMSAC", "101111"),
               ("VFWMACC", "111100")]:
    fvf(f"HV_{nm}_VF", f6, f"{nm.lower()}.vf v8, fa0, v16", swap=True)
for nm, f6 in [("VFMADD", "101000"), ("VFMACC", "101100"), ("VFNMSAC", "101111"), ("VFWMACC", "111100")]:
    fvv(f"HV_{nm}_VV", f6, f"{nm.lower()}.vv v8, v16, v24", swap=True)
SPEC["HV_VFMERGE_VFM"] = ((V, W, "f"), opv("010111", OPFF, 0, 8, 16, "s"), "vfmerge.vfm v8, v16, fa0, v0")
SPEC["HV_VFMV_V_F"] = ((V, "f"), opv("010111", OPFF, 1, 8, 0, "s"), "vfmv.v.f v8, fa0")
# 0.7.1-only encodings (1.0 moved them): checked against the spec layout only
SPEC["HV_VFMV_F_S"] = (("f", W), opv("001100", OPF, 1, "s", 16, 0), None)
SPEC["HV_VFMV_S_F"] = ((V, "f"), opv("001101", OPFF, 1, 8, 0, "s"), None)
for nm, code in [("VFCVT_XU_F_V", "00000"), ("VFCVT_X_F_V", "00001"), ("VFCVT_F_XU_V", "00010"),
                 ("VFCVT_F_X_V", "00011"), ("VFWCVT_F_X_V", "01011"), ("VFWCVT_F_F_V", "01100"),
                 ("VFNCVT_X_F_V", "10001"), ("VFNCVT_F_X_V", "10011"), ("VFNCVT_F_F_V", "10100")]:
    SPEC[f"HV_{nm}"] = ((V, W), opv("100010", OPF, 1, 8, 16, int(code, 2)), None)
SPEC["HV_VFSQRT_V"] = ((V, W), opv("100011", OPF, 1, 8, 16, 0), None)

# integer
for nm, f6, forms in [
    ("VADD", "000000", "vxi"), ("VSUB", "000010", "vx"), ("VRSUB", "000011", "x"), ("VMINU", "000100", "v"),
    ("VMIN", "000101", "vx"), ("VMAXU", "000110", "v"), ("VMAX", "000111", "vx"), ("VAND", "001001", "vx"),
    ("VOR", "001010", "vx"), ("VXOR", "001011", "vx"), ("VRGATHER", "001100", "v"), ("VSLIDEUP", "001110", "xi"),
    ("VSLIDEDOWN", "001111", "xi"), ("VMSEQ", "011000", "x"), ("VSLL", "100101", "vxi"), ("VSRL", "101000", "xi"),
    ("VSRA", "101001", "xi"),
]:
    mn = nm.lower()
    if "v" in forms:
        SPEC[f"HV_{nm}_VV"] = ((V, W, X), opv(f6, OPI, 1, 8, 16, 24), f"{mn}.vv v8, v16, v24")
    if "x" in forms:
        SPEC[f"HV_{nm}_VX"] = ((V, W, "x"), opv(f6, OPIX, 1, 8, 16, "s"), f"{mn}.vx v8, v16, a0")
    if "i" in forms:
        SPEC[f"HV_{nm}_VI"] = ((V, W, "5"), opv(f6, OPII, 1, 8, 16, 5), f"{mn}.vi v8, v16, 5")
SPEC["HV_VMERGE_VVM"] = ((V, W, X), opv("010111", OPI, 0, 8, 16, 24), "vmerge.vvm v8, v16, v24, v0")
SPEC["HV_VMV_V_V"] = ((V, W), opv("010111", OPI, 1, 8, 0, 16), "vmv.v.v v8, v16")
SPEC["HV_VMV_V_X"] = ((V, "x"), opv("010111", OPIX, 1, 8, 0, "s"), "vmv.v.x v8, a0")
SPEC["HV_VMV_V_I"] = ((V, "5"), opv("010111", OPII, 1, 8, 0, 5), "vmv.v.i v8, 5")
SPEC["HV_VMUL_VV"] = ((V, W, X), opv("100101", OPM, 1, 8, 16, 24), "vmul.vv v8, v16, v24")
SPEC["HV_VMUL_VX"] = ((V, W, "x"), opv("100101", OPMX, 1, 8, 16, "s"), "vmul.vx v8, v16, a0")
SPEC["HV_VMACC_VV"] = ((V, W, X), opv("101101", OPM, 1, 8, 24, 16), "vmacc.vv v8, v16, v24")
SPEC["HV_VMACC_VX"] = ((V, "x", W), opv("101101", OPMX, 1, 8, 16, "s"), "vmacc.vx v8, a0, v16")
SPEC["HV_VEXT_X_V"] = (("x", W, "x"), opv("001100", OPM, 1, "s", 16, "s"), None)
SPEC["HV_VMV_S_X"] = ((V, "x"), opv("001101", OPMX, 1, 8, 0, "s"), None)
SPEC["HV_VID_V"] = ((V,), opv("010110", OPM, 1, 8, 0, 0b10001), None)
SPEC["HV_VWMACC_VV"] = ((V, W, X), opv("111101", OPM, 1, 8, 24, 16), "vwmacc.vv v8, v16, v24")
SPEC["HV_VWMACC_VX"] = ((V, "x", W), opv("111101", OPMX, 1, 8, 16, "s"), "vwmacc.vx v8, a0, v16")
SPEC["HV_VSMUL_VV"] = ((V, W, X), opv("100111", OPI, 1, 8, 16, 24), "vsmul.vv v8, v16, v24")
SPEC["HV_VSMUL_VX"] = ((V, W, "x"), opv("100111", OPIX, 1, 8, 16, "s"), "vsmul.vx v8, v16, a0")
SPEC["HV_VSSRA_VV"] = ((V, W, X), opv("101011", OPI, 1, 8, 16, 24), "vssra.vv v8, v16, v24")
SPEC["HV_VSSRA_VX"] = ((V, W, "x"), opv("101011", OPIX, 1, 8, 16, "s"), "vssra.vx v8, v16, a0")
SPEC["HV_VDIV_VX"] = ((V, W, "x"), opv("100001", OPMX, 1, 8, 16, "s"), "vdiv.vx v8, v16, a0")

# loads / stores: nf mop vm lumop/rs2 rs1 width vd
def mem(store, mop, vm, strided, width=0b111):
    return dict(kind="mem", opcode=0x27 if store else 0x07, mop=mop, vm=vm, strided=strided, width=width)


SPEC["HV_VLE"] = ((V, "p"), mem(False, 0b000, 1, False), None)
SPEC["HV_VLE_RO"] = ((V, "p"), mem(False, 0b000, 1, False), None)
SPEC["HV_VLE_M"] = ((V, "p"), mem(False, 0b000, 0, False), None)
SPEC["HV_VLSE"] = ((V, "p", "x"), mem(False, 0b010, 1, True), None)
SPEC["HV_VLSE_RO"] = ((V, "p", "x"), mem(False, 0b010, 1, True), None)
SPEC["HV_VSE"] = ((V, "p"), mem(True, 0b000, 1, False), None)
SPEC["HV_VSE_M"] = ((V, "p"), mem(True, 0b000, 0, False), None)
SPEC["HV_VSSE"] = ((V, "p", "x"), mem(True, 0b010, 1, True), None)
# 0.7.1 byte loads/stores (width 000): vlb.v sign-extended unit stride (mop 100), vsb.v (mop 000)
SPEC["HV_VLB"] = ((V, "p"), mem(False, 0b100, 1, False, 0b000), None)
SPEC["HV_VLB_RO"] = ((V, "p"), mem(False, 0b100, 1, False, 0b000), None)
SPEC["HV_VSB"] = ((V, "p"), mem(True, 0b000, 1, False, 0b000), None)
# vsetvli / vsetvl
SPEC["HV_VSETVLI"] = (("o", "x", "HV_E32M4"), dict(kind="vsetvli", zimm=0b0_01_0_10, rs1="s"), None)
SPEC["HV_VSETVLI_MAX"] = (("o", "HV_E16M8"), dict(kind="vsetvli", zimm=0b0_00_1_11, rs1=0), None)
SPEC["HV_VSETVL"] = (("o", "x", "x"), dict(kind="vsetvl"), None)

# helpers of the table itself (formats, strings), checked through the entries above
HELPERS = {"HV_S", "HV_XS", "HV_VTYPE", "HV_F7", "HV_OPVV", "HV_OPVF", "HV_OPVX", "HV_OPVI", "HV_IVV", "HV_FVV",
           "HV_MVV", "HV_FVF", "HV_IVX", "HV_MVX", "HV_IVI", "HV_FVV_M", "HV_FVF_M"}

XREG = {f"x{i}": i for i in range(32)}
XREG.update({n: i for i, n in enumerate(
    "zero ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 a6 a7 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6".split())})
XREG["fp"] = 8
FREG = {f"f{i}": i for i in range(32)}
FREG.update({n: i for i, n in enumerate(
    "ft0 ft1 ft2 ft3 ft4 ft5 ft6 ft7 fs0 fs1 fa0 fa1 fa2 fa3 fa4 fa5 fa6 fa7 fs2 fs3 fs4 fs5 fs6 fs7 fs8 fs9 fs10 "
    "fs11 ft8 ft9 ft10 ft11".split())})


def zig(*args, cwd):
    res = subprocess.run([sys.executable, "-m", "ziglang", "cc", *args], cwd=cwd, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr
    return res


def text_words(obj: Path) -> list[int]:
    """The 32-bit words of an ELF64 object's .text section."""
    b = obj.read_bytes()
    shoff = int.from_bytes(b[0x28:0x30], "little")
    shentsize, shnum, shstrndx = (int.from_bytes(b[o:o + 2], "little") for o in (0x3A, 0x3C, 0x3E))
    secs = [b[shoff + i * shentsize: shoff + (i + 1) * shentsize] for i in range(shnum)]
    strtab = secs[shstrndx]
    str_off = int.from_bytes(strtab[0x18:0x20], "little")
    for s in secs:
        name_off = int.from_bytes(s[0:4], "little")
        end = b.index(b"\0", str_off + name_off)
        if b[str_off + name_off:end] == b".text":
            off, size = int.from_bytes(s[0x18:0x20], "little"), int.from_bytes(s[0x20:0x28], "little")
            data = b[off:off + size]
            return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]
    raise AssertionError("no .text")


def header_macros() -> set[str]:
    return set(re.findall(r"^#define (HV_[A-Z0-9_]+)\(", HEADER.read_text(), re.M))


def test_every_entry_has_a_spec():
    names = header_macros()
    assert names - HELPERS - set(SPEC) == set(), "entries of hhbc_rvv071.h without a check here"
    assert set(SPEC) - names == set(), "checks here without an entry in hhbc_rvv071.h"


def test_vtype_constants():
    """HV_E<sew>M<lmul> = vediv 0 | vsew[4:2] | vlmul[1:0] (0.7.1), e.g. e32,m1 = 0x08."""
    consts = dict(re.findall(r"^#define (HV_E\d+M\d)\s+(0x[0-9a-f]+)", HEADER.read_text(), re.M))
    assert len(consts) == 16
    for name, val in consts.items():
        sew, lmul = map(int, re.match(r"HV_E(\d+)M(\d)", name).groups())
        assert int(val, 16) == ({8: 0, 16: 1, 32: 2, 64: 3}[sew] << 2 | {1: 0, 2: 1, 4: 2, 8: 3}[lmul]), name
    assert int(consts["HV_E32M1"], 16) == 0x08 and int(consts["HV_E32M4"], 16) == 0x0A


@pytest.fixture(scope="module")
def assembled(tmp_path_factory):
    """name -> (word of the macro's .insn, its .insn text, word of the 1.0 mnemonic or None)"""
    d = tmp_path_factory.mktemp("rvv071")
    funcs = []
    for name, (args, _, _) in SPEC.items():
        cargs = []
        for a in args:
            cargs.append({"f": "f", "x": "x", "p": "p", "o": "o"}.get(a, a))
        funcs.append(f"void t_{name}(float f, long x, const void *p)\n{{\n    long o; (void)o; (void)f; (void)x; (void)p;\n"
                     f"    __asm__ volatile(\"# BEGIN {name}\");\n    {name}({', '.join(cargs)});\n"
                     f"    __asm__ volatile(\"# END\");\n}}\n")
    src = d / "t.c"
    # the float-result macro writes to f: give it an lvalue
    src.write_text('#include "hhbc_rvv071.h"\n' + "\n".join(funcs))
    zig("-target", "riscv64-linux-musl", "-mcpu=baseline_rv64+zfh", "-O1", "-S", "-I", str(HEADER.parent),
        str(src), "-o", str(d / "t.s"), cwd=d)
    asm = (d / "t.s").read_text()
    insn = {}
    for m in re.finditer(r"# BEGIN (\S+)\n(.*?)# END", asm, re.S):
        lines = [ln.strip() for ln in m.group(2).splitlines() if ln.strip().startswith(".insn")]
        assert len(lines) == 1, (m.group(1), m.group(2))
        insn[m.group(1)] = lines[0]
    assert set(insn) == set(SPEC)
    names = list(SPEC)
    body = ["\t.text", "\t.option norvc"] + ["\t" + insn[n] for n in names]
    ones = [n for n in names if SPEC[n][2]]
    body += ["\t" + SPEC[n][2] for n in ones]
    (d / "a.s").write_text("\n".join(body) + "\n")
    zig("-target", "riscv64-linux-musl", "-mcpu=baseline_rv64+v+zfh+zvfh", "-c", str(d / "a.s"),
        "-o", str(d / "a.o"), cwd=d)
    words = text_words(d / "a.o")
    assert len(words) == len(names) + len(ones)
    out = {n: (words[i], insn[n], None) for i, n in enumerate(names)}
    for j, n in enumerate(ones):
        out[n] = (out[n][0], out[n][1], words[len(names) + j])
    return out


def _operands(insn: str) -> list[str]:
    return [t.strip() for t in insn.split(None, 2)[2].split(",")]


def _reg(tok: str) -> int:
    tok = tok.strip()
    if tok in XREG:
        return XREG[tok]
    if tok in FREG:
        return FREG[tok]
    m = re.fullmatch(r"v(\d+)", tok)
    assert m, tok
    return int(m.group(1))


def bits(w, hi, lo):
    return (w >> lo) & ((1 << (hi - lo + 1)) - 1)


@pytest.mark.parametrize("name", list(SPEC))
def test_encoding(name, assembled):
    word, insn, word10 = assembled[name]
    exp = SPEC[name][1]
    ops = _operands(insn)          # .insn r opcode, f3, f7, rd, rs1, rs2  /  .insn i opcode, f3, rd, rs1, imm
    if exp["kind"] == "opv":
        assert bits(word, 6, 0) == 0b1010111
        assert bits(word, 14, 12) == exp["f3"], "funct3"
        assert bits(word, 31, 26) == exp["f6"], "funct6"
        assert bits(word, 25, 25) == exp["vm"], "vm"
        for field, (hi, lo), tok in (("vd", (11, 7), ops[3]), ("vs1", (19, 15), ops[4]), ("vs2", (24, 20), ops[5])):
            want = exp[field]
            if want == "s":
                want = _reg(tok)
            assert bits(word, hi, lo) == want, field
    elif exp["kind"] == "mem":
        assert bits(word, 6, 0) == exp["opcode"]
        assert bits(word, 14, 12) == exp["width"], "width (111: SEW, 000: byte)"
        assert bits(word, 31, 29) == 0, "nf"
        assert bits(word, 28, 26) == exp["mop"], "mop"
        assert bits(word, 25, 25) == exp["vm"], "vm"
        assert bits(word, 11, 7) == 8, "vd/vs3"
        assert bits(word, 19, 15) == _reg(ops[4]), "rs1"
        assert bits(word, 24, 20) == (_reg(ops[5]) if exp["strided"] else 0), "lumop/rs2"
    elif exp["kind"] == "vsetvli":
        assert bits(word, 6, 0) == 0b1010111 and bits(word, 14, 12) == 0b111 and bits(word, 31, 31) == 0
        assert bits(word, 30, 20) == exp["zimm"], "vtype"
        assert bits(word, 19, 15) == (_reg(ops[3]) if exp["rs1"] == "s" else exp["rs1"])
    elif exp["kind"] == "vsetvl":
        assert bits(word, 6, 0) == 0b1010111 and bits(word, 14, 12) == 0b111 and bits(word, 31, 25) == 0b1000000
    if word10 is not None:
        assert word == word10, f"{insn}: {word:#010x} != 1.0 {SPEC[name][2]}: {word10:#010x}"


def test_vle_example():
    """DESIGN.md §5: vle.v v8,(a0) = 0x02057407."""
    w = (0b000 << 29) | (0b000 << 26) | (1 << 25) | (0 << 20) | (10 << 15) | (0b111 << 12) | (8 << 7) | 0x07
    assert w == 0x02057407


# ---- the 0.7.1-only encodings (no 1.0 twin to compare with) executed on c906fdv ----------
SEMANTIC = r"""
#include <stdio.h>
#include <string.h>
#include "hhbc_rvv071.h"
#define CHECK(name, cond) printf("%s %s\n", (cond) ? "PASS" : "FAIL", name)
int main(void)
{
    size_t vl;
    float f4[4] = {1.5f, -2.25f, 3.0f, 4.0f}, o4[4];
    int i4[4] = {1, -2, 3, 4}, oi[4];
    long x;
    float f;
    HV_VSETVLI(vl, 4, HV_E32M1);
    CHECK("vsetvli e32m1 vl=4", vl == 4);
    HV_VLE(v8, f4);
    HV_VFMV_F_S(f, v8);
    CHECK("vfmv.f.s", f == 1.5f);
    HV_VFMV_S_F(v8, 7.0f);
    HV_VSE(v8, o4);
    CHECK("vfmv.s.f", o4[0] == 7.0f && o4[1] == 0.0f);   /* 0.7.1: the other elements are zeroed */
    HV_VLE(v8, f4);
    HV_VFCVT_X_F_V(v12, v8);
    HV_VSE(v12, oi);
    CHECK("vfcvt.x.f.v", oi[0] == 2 && oi[1] == -2 && oi[2] == 3 && oi[3] == 4);
    HV_VLE(v8, i4);
    HV_VFCVT_F_X_V(v12, v8);
    HV_VSE(v12, o4);
    CHECK("vfcvt.f.x.v", o4[0] == 1.0f && o4[1] == -2.0f && o4[3] == 4.0f);
    {
        unsigned u4[4] = {1u, 2u, 3000000000u, 4u};
        float g4[4] = {1.5f, 2.0f, 3.0e9f, 4.0f};
        unsigned ou[4];
        HV_VLE(v8, u4);
        HV_VFCVT_F_XU_V(v12, v8);
        HV_VSE(v12, o4);
        CHECK("vfcvt.f.xu.v", o4[2] == 3.0e9f && o4[1] == 2.0f);
        HV_VLE(v8, g4);
        HV_VFCVT_XU_F_V(v12, v8);
        HV_VSE(v12, ou);
        CHECK("vfcvt.xu.f.v", ou[2] == 3000000000u && ou[0] == 2u);
    }
    {
        float s4[4] = {4.0f, 9.0f, 16.0f, 25.0f};
        HV_VLE(v8, s4);
        HV_VFSQRT_V(v12, v8);
        HV_VSE(v12, o4);
        CHECK("vfsqrt.v", o4[0] == 2.0f && o4[1] == 3.0f && o4[3] == 5.0f);
    }
    HV_VID_V(v8);
    HV_VSE(v8, oi);
    CHECK("vid.v", oi[0] == 0 && oi[1] == 1 && oi[2] == 2 && oi[3] == 3);
    HV_VEXT_X_V(x, v8, 2L);
    CHECK("vext.x.v", x == 2);
    HV_VMV_S_X(v8, 42L);
    HV_VSE(v8, oi);
    CHECK("vmv.s.x", oi[0] == 42 && oi[1] == 0);   /* 0.7.1: the other elements are zeroed */
    {
        _Float16 h4[4] = {(_Float16)1.5f, (_Float16)-2.0f, (_Float16)0.25f, (_Float16)8.0f}, oh[4];
        short s4[4] = {1, -2, 3, 4};
        HV_VSETVLI(vl, 4, HV_E16M1);
        HV_VLE(v4, h4);
        HV_VFWCVT_F_F_V(v8, v4);
        HV_VSETVLI(vl, 4, HV_E32M2);
        HV_VSE(v8, o4);
        CHECK("vfwcvt.f.f.v", o4[0] == 1.5f && o4[1] == -2.0f && o4[2] == 0.25f && o4[3] == 8.0f);
        HV_VFADD_VF(v8, v8, 1.0f);
        HV_VSETVLI(vl, 4, HV_E16M1);
        HV_VFNCVT_F_F_V(v4, v8);
        HV_VSE(v4, oh);
        CHECK("vfncvt.f.f.v", oh[0] == (_Float16)2.5f && oh[1] == (_Float16)-1.0f && oh[3] == (_Float16)9.0f);
        HV_VLE(v4, s4);
        HV_VFWCVT_F_X_V(v8, v4);
        HV_VSETVLI(vl, 4, HV_E32M2);
        HV_VSE(v8, o4);
        CHECK("vfwcvt.f.x.v", o4[0] == 1.0f && o4[1] == -2.0f && o4[3] == 4.0f);
        HV_VSETVLI(vl, 4, HV_E16M1);
        HV_VFNCVT_X_F_V(v4, v8);
        HV_VSE(v4, s4);
        CHECK("vfncvt.x.f.v", s4[0] == 1 && s4[1] == -2 && s4[3] == 4);
        HV_VSETVLI(vl, 4, HV_E32M2);
        HV_VLE(v8, i4);
        HV_VSETVLI(vl, 4, HV_E16M1);
        HV_VFNCVT_F_X_V(v4, v8);
        HV_VSE(v4, oh);
        CHECK("vfncvt.f.x.v", oh[0] == (_Float16)1.0f && oh[1] == (_Float16)-2.0f && oh[3] == (_Float16)4.0f);
    }
    return 0;
}
"""


@pytest.mark.qemu
def test_071_only_encodings_run_on_c906(tmp_path):
    """Each 0.7.1-only entry (moved in 1.0, so not compared with clang) computes what the
    0.7.1 spec says on QEMU's c906fdv."""
    try:
        from hhbc.emulate import qemu_binary
        qemu = qemu_binary()
    except Exception:   # noqa: BLE001
        pytest.skip("xuantie-qemu is not installed")
    src = tmp_path / "sem.c"
    src.write_text(SEMANTIC)
    exe = tmp_path / "sem"
    zig("-target", "riscv64-linux-musl", "-mcpu=baseline_rv64+zfh", "-std=c99", "-O1", "-Wall", "-Werror",
        "-I", str(HEADER.parent), str(src), "-o", str(exe), cwd=tmp_path)
    res = subprocess.run([str(qemu), "-cpu", "c906fdv", str(exe)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    checks = [ln for ln in lines if ln.startswith(("PASS", "FAIL"))]
    assert len(checks) == 16, res.stdout
    assert all(ln.startswith("PASS") for ln in checks), res.stdout
