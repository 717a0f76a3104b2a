"""What every part of imgout shares and none owns: reading user YAML safely, writing files atomically,
formatting numbers, finding the templates. No part of the model's logic lives here."""
