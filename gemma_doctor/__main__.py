from gemma_doctor.cli import entry

entry()
