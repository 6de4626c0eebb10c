import CycleRunnerCore
print("placeholder")
