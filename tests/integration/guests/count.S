# The counting guest of t_vm_ck.sh (VM_CODE_COUNT): 64-bit code loaded at 0x200078.
# as --64 -o g.o count.S && objcopy -O binary -j .text g.o g.bin && od -An -tx1 g.bin
.code64
start:
	mov $0x300000, %edi
next:
	incq (%rdi)
	mov (%rdi), %rbx
	mov $0x3f8, %dx
	mov $28, %cl
digit:
	mov %rbx, %rax
	shr %cl, %rax
	and $0xf, %al
	add $0x30, %al
	cmp $0x39, %al
	jbe 1f
	add $7, %al
1:	out %al, %dx
	sub $4, %cl
	jns digit
	mov $0x0a, %al
	out %al, %dx
	mov $300000, %ecx
2:	dec %ecx
	jnz 2b
	mov $0xff0, %dx
	in %dx, %al
	test %al, %al
	jz next
	out %al, %dx
3:	hlt
	jmp 3b
