# Written here in the pattern of Modal fine-tuning examples: the image pins what the remote run gets.
import modal

image = (
    modal.Image.debian_slim(python_version="3.11")
    .pip_install(
        "torch==2.3.1",
        "transformers==4.44.2",
        "accelerate==0.33.0",
        "peft==0.12.0",
    )
)
app = modal.App("gemma3-finetune", image=image)
