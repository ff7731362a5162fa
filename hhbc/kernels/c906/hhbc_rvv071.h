/*
 * hhbc_rvv071.h: THE table of RVV 0.7.1 (XTheadVector, XuanTie C906) encodings, as C macros
 * that emit `.insn` lines (no compiler here knows 0.7.1). Checked field by field against
 * the 0.7.1 spec's bit layout, and against clang's RVV 1.0 bytes where the encoding is
 * unchanged, by tests/kernels/test_rvv071_encodings.py. Every HV_ macro here must have an
 * entry in that test.
 *
 * Operand order is the assembly order of the ISA: vd, vs2, vs1 / rs1 / f (for the
 * multiply-adds vd, f-or-vs1, vs2 as in `vfmacc.vf vd, rs1, vs2`). Vector registers are
 * written as bare names (v0..v31); scalar operands are C expressions bound to "r"/"f".
 * The compiler never allocates vector registers in rv64gc code, so vector state survives
 * between these statements; kernels allocate v registers by hand.
 *
 * 0.7.1 facts used here (differences from 1.0):
 *   vtype = vediv[6:5] | vsew[4:2] | vlmul[1:0] (no vta/vma, no fractional LMUL);
 *   loads/stores: nf[31:29] mop[28:26] vm[25] lumop/rs2[24:20] rs1 width[14:12] vd;
 *     unit-stride vle.v/vse.v: mop 000, width 111 (element width = SEW);
 *     strided vlse.v/vsse.v: mop 010;
 *   OP-V: funct6[31:26] vm[25] vs2[24:20] vs1/rs1[19:15] funct3[14:12] vd[11:7] 1010111,
 *     funct3: OPIVV 000, OPFVV 001, OPMVV 010, OPIVI 011, OPIVX 100, OPFVF 101, OPMVX 110;
 *   VFUNARY0 (vfcvt/vfwcvt/vfncvt) is funct6 100010 (1.0: 010010), VFUNARY1 (vfsqrt)
 *   100011 (1.0: 010011), vfmv.f.s 001100 (1.0: 010000), vfmv.s.f 001101 (1.0: 010000),
 *   vext.x.v 001100 OPMVV (0.7.1 only), vmv.s.x 001101 OPMVX (1.0: 010000), vid.v
 *   010110/vs1=10001 (1.0: 010100); vfredsum = 1.0's vfredusum; tail elements are zeroed;
 *   mask layout MLEN = SEW/LMUL bits per element.
 */
#ifndef HHBC_RVV071_H
#define HHBC_RVV071_H

#define HV_S(x) #x
#define HV_XS(x) HV_S(x)

/* ---- vtype immediates: vediv[6:5]=0 | vsew[4:2] | vlmul[1:0] ------------------------- */
#define HV_VTYPE(sew_code, lmul_code) (((sew_code) << 2) | (lmul_code))
#define HV_E8M1  0x00
#define HV_E8M2  0x01
#define HV_E8M4  0x02
#define HV_E8M8  0x03
#define HV_E16M1 0x04
#define HV_E16M2 0x05
#define HV_E16M4 0x06
#define HV_E16M8 0x07
#define HV_E32M1 0x08
#define HV_E32M2 0x09
#define HV_E32M4 0x0a
#define HV_E32M8 0x0b
#define HV_E64M1 0x0c
#define HV_E64M2 0x0d
#define HV_E64M4 0x0e
#define HV_E64M8 0x0f

/* vsetvli rd, rs1, vtype: bit31 0 | zimm[30:20] | rs1 | 111 | rd | 1010111.
 * vt must be a literal (one of the HV_E* names). */
#define HV_VSETVLI(vl, n, vt) __asm__ volatile(".insn i 0x57, 7, %0, %1, " HV_XS(vt) : "=r"(vl) : "r"(n))
/* vsetvli rd, x0, vtype: vl = VLMAX */
#define HV_VSETVLI_MAX(vl, vt) __asm__ volatile(".insn i 0x57, 7, %0, x0, " HV_XS(vt) : "=r"(vl))
/* vsetvl rd, rs1, rs2: funct7 1000000 */
#define HV_VSETVL(vl, n, vtype) __asm__ volatile(".insn r 0x57, 7, 0x40, %0, %1, %2" : "=r"(vl) : "r"(n), "r"(vtype))

/* ---- loads and stores ------------------------------------------------------------------ */
/* funct7 = nf[31:29] mop[28:26] vm[25]; rs2 field = lumop (00000) or the stride register */
#define HV_VLE(vd, p)        __asm__ volatile(".insn r 0x07, 7, 0x01, " #vd ", %0, x0" :: "r"(p) : "memory")
#define HV_VLE_M(vd, p)      __asm__ volatile(".insn r 0x07, 7, 0x00, " #vd ", %0, x0" :: "r"(p) : "memory")
#define HV_VLSE(vd, p, s)    __asm__ volatile(".insn r 0x07, 7, 0x05, " #vd ", %0, %1" :: "r"(p), "r"(s) : "memory")
#define HV_VSE(vs, p)        __asm__ volatile(".insn r 0x27, 7, 0x01, " #vs ", %0, x0" :: "r"(p) : "memory")
#define HV_VSE_M(vs, p)      __asm__ volatile(".insn r 0x27, 7, 0x00, " #vs ", %0, x0" :: "r"(p) : "memory")
#define HV_VSSE(vs, p, s)    __asm__ volatile(".insn r 0x27, 7, 0x05, " #vs ", %0, %1" :: "r"(p), "r"(s) : "memory")
/* loads without a memory clobber, for read-only data (weights, inputs): lets the compiler
 * keep scalars in registers across them */
#define HV_VLE_RO(vd, p)     __asm__ volatile(".insn r 0x07, 7, 0x01, " #vd ", %0, x0" :: "r"(p))
#define HV_VLSE_RO(vd, p, s) __asm__ volatile(".insn r 0x07, 7, 0x05, " #vd ", %0, %1" :: "r"(p), "r"(s))

/* ---- generic OP-V formats (funct7 = funct6 << 1 | vm; vm=1 unmasked, 0 masked by v0) --- */
#define HV_F7(f6, vm) (((f6) << 1) | (vm))
/* .insn r opcode, funct3, funct7, rd, rs1, rs2: rs1 = vs1/rs1/imm field [19:15], rs2 = vs2 */
#define HV_OPVV(f3, f7, vd, vs2, vs1) __asm__ volatile(".insn r 0x57, " #f3 ", " HV_XS(f7) ", " #vd ", " #vs1 ", " #vs2)
#define HV_OPVF(f7, vd, vs2, f)  __asm__ volatile(".insn r 0x57, 5, " HV_XS(f7) ", " #vd ", %0, " #vs2 :: "f"(f))
#define HV_OPVX(f3, f7, vd, vs2, x) __asm__ volatile(".insn r 0x57, " #f3 ", " HV_XS(f7) ", " #vd ", %0, " #vs2 :: "r"(x))
/* OPIVI: the 5-bit immediate sits in the rs1 field, written as x<imm> (imm 0..31) */
#define HV_OPVI(f7, vd, vs2, imm) __asm__ volatile(".insn r 0x57, 3, " HV_XS(f7) ", " #vd ", x" #imm ", " #vs2)

#define HV_IVV(f6, vd, vs2, vs1) HV_OPVV(0, HV_F7(f6, 1), vd, vs2, vs1)
#define HV_FVV(f6, vd, vs2, vs1) HV_OPVV(1, HV_F7(f6, 1), vd, vs2, vs1)
#define HV_MVV(f6, vd, vs2, vs1) HV_OPVV(2, HV_F7(f6, 1), vd, vs2, vs1)
#define HV_FVF(f6, vd, vs2, f)   HV_OPVF(HV_F7(f6, 1), vd, vs2, f)
#define HV_IVX(f6, vd, vs2, x)   HV_OPVX(4, HV_F7(f6, 1), vd, vs2, x)
#define HV_MVX(f6, vd, vs2, x)   HV_OPVX(6, HV_F7(f6, 1), vd, vs2, x)
#define HV_IVI(f6, vd, vs2, imm) HV_OPVI(HV_F7(f6, 1), vd, vs2, imm)
#define HV_FVV_M(f6, vd, vs2, vs1) HV_OPVV(1, HV_F7(f6, 0), vd, vs2, vs1)
#define HV_FVF_M(f6, vd, vs2, f)   HV_OPVF(HV_F7(f6, 0), vd, vs2, f)

/* ---- floating point, single width (funct6) -------------------------------------------- */
#define HV_VFADD_VV(vd, a, b)    HV_FVV(0x00, vd, a, b)   /* vfadd.vv: funct6 000000, OPFVV 001 */
#define HV_VFADD_VF(vd, a, f)    HV_FVF(0x00, vd, a, f)   /* vfadd.vf: funct6 000000, OPFVF 101 */
#define HV_VFREDSUM_VS(vd, a, s) HV_FVV(0x01, vd, a, s)   /* vfredsum.vs: funct6 000001, OPFVV 001; vd[0] = s[0] + sum(a) (unordered) */
#define HV_VFSUB_VV(vd, a, b)    HV_FVV(0x02, vd, a, b)   /* vfsub.vv: funct6 000010, OPFVV 001; a - b */
#define HV_VFSUB_VF(vd, a, f)    HV_FVF(0x02, vd, a, f)   /* vfsub.vf: funct6 000010, OPFVF 101 */
#define HV_VFREDOSUM_VS(vd, a, s) HV_FVV(0x03, vd, a, s)   /* vfredosum.vs: funct6 000011, OPFVV 001 */
#define HV_VFMIN_VV(vd, a, b)    HV_FVV(0x04, vd, a, b)   /* vfmin.vv: funct6 000100, OPFVV 001 */
#define HV_VFMIN_VF(vd, a, f)    HV_FVF(0x04, vd, a, f)   /* vfmin.vf: funct6 000100, OPFVF 101 */
#define HV_VFREDMIN_VS(vd, a, s) HV_FVV(0x05, vd, a, s)   /* vfredmin.vs: funct6 000101, OPFVV 001 */
#define HV_VFMAX_VV(vd, a, b)    HV_FVV(0x06, vd, a, b)   /* vfmax.vv: funct6 000110, OPFVV 001 */
#define HV_VFMAX_VF(vd, a, f)    HV_FVF(0x06, vd, a, f)   /* vfmax.vf: funct6 000110, OPFVF 101 */
#define HV_VFREDMAX_VS(vd, a, s) HV_FVV(0x07, vd, a, s)   /* vfredmax.vs: funct6 000111, OPFVV 001 */
#define HV_VFSGNJ_VV(vd, a, b)   HV_FVV(0x08, vd, a, b)   /* vfsgnj.vv: funct6 001000, OPFVV 001; |a| with sign of b */
#define HV_VFSGNJN_VV(vd, a, b)  HV_FVV(0x09, vd, a, b)   /* vfsgnjn.vv: funct6 001001, OPFVV 001; a == b: -a */
#define HV_VFSGNJX_VV(vd, a, b)  HV_FVV(0x0a, vd, a, b)   /* vfsgnjx.vv: funct6 001010, OPFVV 001; a == b: |a| */
#define HV_VFMV_F_S(f, vs) __asm__ volatile(".insn r 0x57, 1, 0x19, %0, x0, " #vs : "=f"(f))  /* 001100 */
/* vfmv.s.f: 001101; 0.7.1 zeroes the other elements of vd (checked on c906fdv) */
#define HV_VFMV_S_F(vd, f) __asm__ volatile(".insn r 0x57, 5, 0x1b, " #vd ", %0, x0" :: "f"(f))
#define HV_VFMERGE_VFM(vd, a, f) HV_FVF_M(0x17, vd, a, f)   /* vfmerge.vfm v0.t: funct6 010111, OPFVF 101; v0 ? f : a */
#define HV_VFMV_V_F(vd, f)       HV_FVF(0x17, vd, v0, f)   /* vfmv.v.f: funct6 010111, OPFVF 101 */
#define HV_VMFEQ_VV(vd, a, b)    HV_FVV(0x18, vd, a, b)   /* vmfeq.vv: funct6 011000, OPFVV 001 */
#define HV_VMFEQ_VF(vd, a, f)    HV_FVF(0x18, vd, a, f)   /* vmfeq.vf: funct6 011000, OPFVF 101 */
#define HV_VMFLE_VV(vd, a, b)    HV_FVV(0x19, vd, a, b)   /* vmfle.vv: funct6 011001, OPFVV 001; a <= b */
#define HV_VMFLE_VF(vd, a, f)    HV_FVF(0x19, vd, a, f)   /* vmfle.vf: funct6 011001, OPFVF 101 */
#define HV_VMFLT_VV(vd, a, b)    HV_FVV(0x1b, vd, a, b)   /* vmflt.vv: funct6 011011, OPFVV 001; a < b */
#define HV_VMFLT_VF(vd, a, f)    HV_FVF(0x1b, vd, a, f)   /* vmflt.vf: funct6 011011, OPFVF 101 */
#define HV_VMFNE_VV(vd, a, b)    HV_FVV(0x1c, vd, a, b)   /* vmfne.vv: funct6 011100, OPFVV 001 */
#define HV_VMFNE_VF(vd, a, f)    HV_FVF(0x1c, vd, a, f)   /* vmfne.vf: funct6 011100, OPFVF 101 */
#define HV_VMFGT_VF(vd, a, f)    HV_FVF(0x1d, vd, a, f)   /* vmfgt.vf: funct6 011101, OPFVF 101 */
#define HV_VMFGE_VF(vd, a, f)    HV_FVF(0x1f, vd, a, f)   /* vmfge.vf: funct6 011111, OPFVF 101 */
#define HV_VFDIV_VV(vd, a, b)    HV_FVV(0x20, vd, a, b)   /* vfdiv.vv: funct6 100000, OPFVV 001; a / b */
#define HV_VFDIV_VF(vd, a, f)    HV_FVF(0x20, vd, a, f)   /* vfdiv.vf: funct6 100000, OPFVF 101 */
#define HV_VFRDIV_VF(vd, a, f)   HV_FVF(0x21, vd, a, f)   /* vfrdiv.vf: funct6 100001, OPFVF 101; f / a */
#define HV_VFMUL_VV(vd, a, b)    HV_FVV(0x24, vd, a, b)   /* vfmul.vv: funct6 100100, OPFVV 001 */
#define HV_VFMUL_VF(vd, a, f)    HV_FVF(0x24, vd, a, f)   /* vfmul.vf: funct6 100100, OPFVF 101 */
#define HV_VFMUL_VV_M(vd, a, b)  HV_FVV_M(0x24, vd, a, b)   /* vfmul.vv v0.t: funct6 100100, OPFVV 001; masked by v0 */
#define HV_VFMUL_VF_M(vd, a, f)  HV_FVF_M(0x24, vd, a, f)   /* vfmul.vf v0.t: funct6 100100, OPFVF 101; masked by v0 */
#define HV_VFRSUB_VF(vd, a, f)   HV_FVF(0x27, vd, a, f)   /* vfrsub.vf: funct6 100111, OPFVF 101; f - a */
#define HV_VFMADD_VV(vd, a, b)   HV_FVV(0x28, vd, b, a)   /* vfmadd.vv: funct6 101000, OPFVV 001; vd = a * vd + b */
#define HV_VFMADD_VF(vd, f, b)   HV_FVF(0x28, vd, b, f)   /* vfmadd.vf: funct6 101000, OPFVF 101; vd = f * vd + b */
#define HV_VFNMADD_VF(vd, f, b)  HV_FVF(0x29, vd, b, f)   /* vfnmadd.vf: funct6 101001, OPFVF 101; vd = -(f * vd) - b */
#define HV_VFMSUB_VF(vd, f, b)   HV_FVF(0x2a, vd, b, f)   /* vfmsub.vf: funct6 101010, OPFVF 101; vd = f * vd - b */
#define HV_VFNMSUB_VF(vd, f, b)  HV_FVF(0x2b, vd, b, f)   /* vfnmsub.vf: funct6 101011, OPFVF 101; vd = -(f * vd) + b */
#define HV_VFMACC_VV(vd, a, b)   HV_FVV(0x2c, vd, b, a)   /* vfmacc.vv: funct6 101100, OPFVV 001; vd += a * b */
#define HV_VFMACC_VF(vd, f, b)   HV_FVF(0x2c, vd, b, f)   /* vfmacc.vf: funct6 101100, OPFVF 101; vd += f * b */
#define HV_VFNMACC_VF(vd, f, b)  HV_FVF(0x2d, vd, b, f)   /* vfnmacc.vf: funct6 101101, OPFVF 101; vd = -(f * b) - vd */
#define HV_VFMSAC_VF(vd, f, b)   HV_FVF(0x2e, vd, b, f)   /* vfmsac.vf: funct6 101110, OPFVF 101; vd = f * b - vd */
#define HV_VFNMSAC_VV(vd, a, b)  HV_FVV(0x2f, vd, b, a)   /* vfnmsac.vv: funct6 101111, OPFVV 001; vd -= a * b */
#define HV_VFNMSAC_VF(vd, f, b)  HV_FVF(0x2f, vd, b, f)   /* vfnmsac.vf: funct6 101111, OPFVF 101; vd -= f * b */

/* ---- floating point, widening (vd is 2*SEW, 2*LMUL; vtype holds the narrow SEW) -------- */
#define HV_VFWADD_VV(vd, a, b)   HV_FVV(0x30, vd, a, b)   /* vfwadd.vv: funct6 110000, OPFVV 001 */
#define HV_VFWREDSUM_VS(vd, a, s) HV_FVV(0x31, vd, a, s)   /* vfwredsum.vs: funct6 110001, OPFVV 001 */
#define HV_VFWADD_WV(vd, w, b)   HV_FVV(0x34, vd, w, b)   /* vfwadd.wv: funct6 110100, OPFVV 001 */
#define HV_VFWMUL_VV(vd, a, b)   HV_FVV(0x38, vd, a, b)   /* vfwmul.vv: funct6 111000, OPFVV 001 */
#define HV_VFWMUL_VF(vd, a, f)   HV_FVF(0x38, vd, a, f)   /* vfwmul.vf: funct6 111000, OPFVF 101 */
#define HV_VFWMACC_VV(vd, a, b)  HV_FVV(0x3c, vd, b, a)   /* vfwmacc.vv: funct6 111100, OPFVV 001; vd(2*SEW) += a * b */
#define HV_VFWMACC_VF(vd, f, b)  HV_FVF(0x3c, vd, b, f)   /* vfwmacc.vf: funct6 111100, OPFVF 101; vd(2*SEW) += f * b */

/* ---- conversions and unary (0.7.1 VFUNARY0 = 100010, VFUNARY1 = 100011; the vs1 field
 * selects the operation) ------------------------------------------------------------------ */
#define HV_VFCVT_XU_F_V(vd, vs)  HV_FVV(0x22, vd, vs, x0)   /* vfcvt.xu.f.v: funct6 100010, OPFVV 001 */
#define HV_VFCVT_X_F_V(vd, vs)   HV_FVV(0x22, vd, vs, x1)   /* vfcvt.x.f.v: funct6 100010, OPFVV 001; round per frm (RNE) */
#define HV_VFCVT_F_XU_V(vd, vs)  HV_FVV(0x22, vd, vs, x2)   /* vfcvt.f.xu.v: funct6 100010, OPFVV 001 */
#define HV_VFCVT_F_X_V(vd, vs)   HV_FVV(0x22, vd, vs, x3)   /* vfcvt.f.x.v: funct6 100010, OPFVV 001 */
#define HV_VFWCVT_F_X_V(vd, vs)  HV_FVV(0x22, vd, vs, x11)   /* vfwcvt.f.x.v: funct6 100010, OPFVV 001 */
#define HV_VFWCVT_F_F_V(vd, vs)  HV_FVV(0x22, vd, vs, x12)   /* vfwcvt.f.f.v: funct6 100010, OPFVV 001; SEW -> 2*SEW; vtype: narrow SEW */
#define HV_VFNCVT_X_F_V(vd, vs)  HV_FVV(0x22, vd, vs, x17)   /* vfncvt.x.f.v: funct6 100010, OPFVV 001 */
#define HV_VFNCVT_F_X_V(vd, vs)  HV_FVV(0x22, vd, vs, x19)   /* vfncvt.f.x.v: funct6 100010, OPFVV 001 */
#define HV_VFNCVT_F_F_V(vd, vs)  HV_FVV(0x22, vd, vs, x20)   /* vfncvt.f.f.v: funct6 100010, OPFVV 001; 2*SEW -> SEW; vtype: narrow SEW */
#define HV_VFSQRT_V(vd, vs)      HV_FVV(0x23, vd, vs, x0)   /* vfsqrt.v: funct6 100011, OPFVV 001 */

/* ---- integer ------------------------------------------------------------------------------ */
#define HV_VADD_VV(vd, a, b)     HV_IVV(0x00, vd, a, b)   /* vadd.vv: funct6 000000, OPIVV 000 */
#define HV_VADD_VX(vd, a, x)     HV_IVX(0x00, vd, a, x)   /* vadd.vx: funct6 000000, OPIVX 100 */
#define HV_VADD_VI(vd, a, imm)   HV_IVI(0x00, vd, a, imm)   /* vadd.vi: funct6 000000, OPIVI 011 */
#define HV_VSUB_VV(vd, a, b)     HV_IVV(0x02, vd, a, b)   /* vsub.vv: funct6 000010, OPIVV 000 */
#define HV_VSUB_VX(vd, a, x)     HV_IVX(0x02, vd, a, x)   /* vsub.vx: funct6 000010, OPIVX 100 */
#define HV_VRSUB_VX(vd, a, x)    HV_IVX(0x03, vd, a, x)   /* vrsub.vx: funct6 000011, OPIVX 100 */
#define HV_VMINU_VV(vd, a, b)    HV_IVV(0x04, vd, a, b)   /* vminu.vv: funct6 000100, OPIVV 000 */
#define HV_VMIN_VV(vd, a, b)     HV_IVV(0x05, vd, a, b)   /* vmin.vv: funct6 000101, OPIVV 000 */
#define HV_VMIN_VX(vd, a, x)     HV_IVX(0x05, vd, a, x)   /* vmin.vx: funct6 000101, OPIVX 100 */
#define HV_VMAXU_VV(vd, a, b)    HV_IVV(0x06, vd, a, b)   /* vmaxu.vv: funct6 000110, OPIVV 000 */
#define HV_VMAX_VV(vd, a, b)     HV_IVV(0x07, vd, a, b)   /* vmax.vv: funct6 000111, OPIVV 000 */
#define HV_VMAX_VX(vd, a, x)     HV_IVX(0x07, vd, a, x)   /* vmax.vx: funct6 000111, OPIVX 100 */
#define HV_VAND_VV(vd, a, b)     HV_IVV(0x09, vd, a, b)   /* vand.vv: funct6 001001, OPIVV 000 */
#define HV_VAND_VX(vd, a, x)     HV_IVX(0x09, vd, a, x)   /* vand.vx: funct6 001001, OPIVX 100 */
#define HV_VOR_VV(vd, a, b)      HV_IVV(0x0a, vd, a, b)   /* vor.vv: funct6 001010, OPIVV 000 */
#define HV_VOR_VX(vd, a, x)      HV_IVX(0x0a, vd, a, x)   /* vor.vx: funct6 001010, OPIVX 100 */
#define HV_VXOR_VV(vd, a, b)     HV_IVV(0x0b, vd, a, b)   /* vxor.vv: funct6 001011, OPIVV 000 */
#define HV_VXOR_VX(vd, a, x)     HV_IVX(0x0b, vd, a, x)   /* vxor.vx: funct6 001011, OPIVX 100 */
#define HV_VRGATHER_VV(vd, a, idx) HV_IVV(0x0c, vd, a, idx)   /* vrgather.vv: funct6 001100, OPIVV 000 */
#define HV_VSLIDEUP_VX(vd, a, x)   HV_IVX(0x0e, vd, a, x)   /* vslideup.vx: funct6 001110, OPIVX 100 */
#define HV_VSLIDEUP_VI(vd, a, imm) HV_IVI(0x0e, vd, a, imm)   /* vslideup.vi: funct6 001110, OPIVI 011 */
#define HV_VSLIDEDOWN_VX(vd, a, x)   HV_IVX(0x0f, vd, a, x)   /* vslidedown.vx: funct6 001111, OPIVX 100 */
#define HV_VSLIDEDOWN_VI(vd, a, imm) HV_IVI(0x0f, vd, a, imm)   /* vslidedown.vi: funct6 001111, OPIVI 011 */
#define HV_VMERGE_VVM(vd, a, b)  HV_OPVV(0, HV_F7(0x17, 0), vd, a, b)  /* vmerge.vvm: funct6 010111, OPIVV 000, vm 0; v0 ? b : a */
#define HV_VMV_V_V(vd, a)        HV_IVV(0x17, vd, v0, a)   /* vmv.v.v: funct6 010111, OPIVV 000 */
#define HV_VMV_V_X(vd, x)        HV_IVX(0x17, vd, v0, x)   /* vmv.v.x: funct6 010111, OPIVX 100 */
#define HV_VMV_V_I(vd, imm)      HV_IVI(0x17, vd, v0, imm)   /* vmv.v.i: funct6 010111, OPIVI 011 */
#define HV_VMSEQ_VX(vd, a, x)    HV_IVX(0x18, vd, a, x)   /* vmseq.vx: funct6 011000, OPIVX 100 */
#define HV_VSLL_VV(vd, a, b)     HV_IVV(0x25, vd, a, b)   /* vsll.vv: funct6 100101, OPIVV 000 */
#define HV_VSLL_VX(vd, a, x)     HV_IVX(0x25, vd, a, x)   /* vsll.vx: funct6 100101, OPIVX 100 */
#define HV_VSLL_VI(vd, a, imm)   HV_IVI(0x25, vd, a, imm)   /* vsll.vi: funct6 100101, OPIVI 011 */
#define HV_VSRL_VX(vd, a, x)     HV_IVX(0x28, vd, a, x)   /* vsrl.vx: funct6 101000, OPIVX 100 */
#define HV_VSRL_VI(vd, a, imm)   HV_IVI(0x28, vd, a, imm)   /* vsrl.vi: funct6 101000, OPIVI 011 */
#define HV_VSRA_VX(vd, a, x)     HV_IVX(0x29, vd, a, x)   /* vsra.vx: funct6 101001, OPIVX 100 */
#define HV_VSRA_VI(vd, a, imm)   HV_IVI(0x29, vd, a, imm)   /* vsra.vi: funct6 101001, OPIVI 011 */
#define HV_VMUL_VV(vd, a, b)     HV_MVV(0x25, vd, a, b)   /* vmul.vv: funct6 100101, OPMVV 010 */
#define HV_VMUL_VX(vd, a, x)     HV_MVX(0x25, vd, a, x)   /* vmul.vx: funct6 100101, OPMVX 110 */
#define HV_VMACC_VV(vd, a, b)    HV_MVV(0x2d, vd, b, a)   /* vmacc.vv: funct6 101101, OPMVV 010; vd += a * b */
#define HV_VMACC_VX(vd, x, b)    HV_MVX(0x2d, vd, b, x)   /* vmacc.vx: funct6 101101, OPMVX 110; vd += x * b */
/* vext.x.v rd, vs2, rs1 (0.7.1 only): rd = vs2[rs1] (OPMVV 001100, rs1 in the vs1 field) */
#define HV_VEXT_X_V(x, vs, idx) __asm__ volatile(".insn r 0x57, 2, 0x19, %0, %1, " #vs : "=r"(x) : "r"(idx))
/* vmv.s.x vd, rs1 (0.7.1: OPMVX 001101); 0.7.1 zeroes the other elements of vd (checked on c906fdv) */
#define HV_VMV_S_X(vd, x) __asm__ volatile(".insn r 0x57, 6, 0x1b, " #vd ", %0, x0" :: "r"(x))
/* vid.v vd (0.7.1: VMUNARY0 010110, vs1 = 10001) */
#define HV_VID_V(vd) __asm__ volatile(".insn r 0x57, 2, 0x2d, " #vd ", x17, x0")

/* ---- added for elementwise kernels ---- */

/* ---- integer kernels (int8 path) ---------------------------------------------------------- */
/* 0.7.1-only loads/stores with an explicit memory width (1.0 dropped them): width[14:12] 000 =
 * byte. vlb.v: mop 100 (sign-extended unit stride), each byte sign-extended to SEW;
 * vsb.v: mop 000, the low byte of each SEW element stored. */
#define HV_VLB(vd, p)        __asm__ volatile(".insn r 0x07, 0, 0x09, " #vd ", %0, x0" :: "r"(p) : "memory")
#define HV_VLB_RO(vd, p)     __asm__ volatile(".insn r 0x07, 0, 0x09, " #vd ", %0, x0" :: "r"(p))
#define HV_VSB(vs, p)        __asm__ volatile(".insn r 0x27, 0, 0x01, " #vs ", %0, x0" :: "r"(p) : "memory")
#define HV_VWMACC_VV(vd, a, b)   HV_MVV(0x3d, vd, b, a)   /* vwmacc.vv: funct6 111101, OPMVV 010; vd(2*SEW) += a * b (signed) */
#define HV_VWMACC_VX(vd, x, b)   HV_MVX(0x3d, vd, b, x)   /* vwmacc.vx: funct6 111101, OPMVX 110; vd(2*SEW) += x * b (signed) */
#define HV_VSMUL_VV(vd, a, b)    HV_IVV(0x27, vd, a, b)   /* vsmul.vv: funct6 100111, OPIVV 000; (a*b + round) >> (SEW-1), saturating */
#define HV_VSMUL_VX(vd, a, x)    HV_IVX(0x27, vd, a, x)   /* vsmul.vx: funct6 100111, OPIVX 100 */
#define HV_VSSRA_VV(vd, a, b)    HV_IVV(0x2b, vd, a, b)   /* vssra.vv: funct6 101011, OPIVV 000; a >> b rounded per vxrm */
#define HV_VSSRA_VX(vd, a, x)    HV_IVX(0x2b, vd, a, x)   /* vssra.vx: funct6 101011, OPIVX 100 */
#define HV_VDIV_VX(vd, a, x)     HV_MVX(0x21, vd, a, x)   /* vdiv.vx: funct6 100001, OPMVX 110; signed, truncating */

#endif /* HHBC_RVV071_H */
