"""Gradient descent *through* a compiled program (README tour).

``examples/sum.asm`` computes r2 = 1 + 2 + ... + r1 (mod n). We make r1 a learnable
distribution and ask for the answer 15 at n = 16: gradient descent through 40 soft steps of the
compiled loop finds r1 = 5 (1 + 2 + 3 + 4 + 5 = 15). Then we decompile a softened copy of the
program: every field is printed with its probability.
"""

import torch

import neuralc
from neuralc.machine import DifferentiableComputer, decompile_text

torch.manual_seed(0)
with open("examples/sum.asm") as f:
    source = f.read()
program = neuralc.assemble(source, "sum.asm", {"n": 16, "registers": 4})
computer = DifferentiableComputer.from_program(program, alu="sparse")  # exact, frozen program

logits = torch.zeros(1, 16, requires_grad=True)  # r1 = softmax(logits)
optimizer = torch.optim.Adam([logits], lr=0.3)
for step in range(60):
    state = computer.initial_state(1, registers={1: logits.softmax(-1)})
    answer = computer(state, steps=40).readout("final").registers[0, 2]  # (N,): r2
    loss = -answer[15].clamp_min(1e-9).log()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
r1 = logits.softmax(-1)[0]
print(f"learned r1 = {int(r1.argmax())} (p = {r1.max().item():.3f}), "
      f"P(r2 = 15) = {answer[15].item():.3f}")

soft = DifferentiableComputer.from_program(program, logits=True, sharpness=6.0)
print(decompile_text(soft.program))
