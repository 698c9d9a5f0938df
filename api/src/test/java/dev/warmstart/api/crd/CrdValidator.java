package dev.warmstart.api.crd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Validates custom resources against a generated CRD the way kube-apiserver would, since none can
 * be run here: the openAPIV3Schema through a real JSON-schema validator (with strict field
 * validation, as {@code kubectl apply} uses by default, so unknown fields are errors), and every
 * {@code x-kubernetes-validations} rule through a real CEL engine, with {@code oldSelf} bound on
 * updates. Messages are phrased like the API server's.
 */
final class CrdValidator {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  private static final CelCompiler CEL =
      CelCompilerFactory.standardCelCompilerBuilder()
          .addVar("self", SimpleType.DYN)
          .addVar("oldSelf", SimpleType.DYN)
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .build();
  private static final CelRuntime CEL_RUNTIME =
      CelRuntimeFactory.standardCelRuntimeBuilder().build();

  private final String kind;
  private final String group;
  private final JsonNode openApiSchema;
  private final JsonSchema jsonSchema;

  private CrdValidator(JsonNode crd) {
    this.kind = crd.at("/spec/names/kind").asText();
    this.group = crd.at("/spec/group").asText();
    this.openApiSchema = crd.at("/spec/versions/0/schema/openAPIV3Schema");
    JsonNode strict = strict(openApiSchema.deepCopy());
    this.jsonSchema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(strict);
  }

  static CrdValidator load(Path crdFile) throws IOException {
    return new CrdValidator(YAML.readTree(crdFile.toFile()));
  }

  static JsonNode readYaml(Path file) throws IOException {
    return YAML.readTree(file.toFile());
  }

  /** Errors a create of {@code object} would get; empty when it would be accepted. */
  List<String> validateCreate(JsonNode object) {
    return validate(null, object);
  }

  /** Errors an update from {@code oldObject} to {@code newObject} would get. */
  List<String> validateUpdate(JsonNode oldObject, JsonNode newObject) {
    return validate(oldObject, newObject);
  }

  private List<String> validate(JsonNode oldObject, JsonNode object) {
    List<String> errors = new ArrayList<>();
    String name = object.at("/metadata/name").asText("");
    if (!DNS_SUBDOMAIN.matcher(name).matches() || name.length() > 253) {
      errors.add(
          "metadata.name: Invalid value: \""
              + name
              + "\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric"
              + " characters, '-' or '.'");
    }
    ObjectNode body = object.deepCopy();
    body.remove(List.of("apiVersion", "kind", "metadata"));
    for (ValidationMessage m : jsonSchema.validate(body)) {
      errors.add(m.getMessage().replaceFirst("^\\$\\.?", ""));
    }
    if (errors.isEmpty()) {
      evaluateRules(openApiSchema, toJava(body), toJava(oldObject), "", errors);
    }
    return errors.stream().map(e -> prefix(name) + e).toList();
  }

  private String prefix(String name) {
    return kind + "." + group + " \"" + name + "\" is invalid: ";
  }

  /** Walks schema and value together and runs each node's CEL rules. */
  private void evaluateRules(
      JsonNode schema, Object value, Object oldValue, String path, List<String> errors) {
    if (value == null) {
      return;
    }
    for (JsonNode rule : schema.path("x-kubernetes-validations")) {
      String expr = rule.get("rule").asText();
      boolean transition = expr.contains("oldSelf");
      if (transition && oldValue == null) {
        continue; // transition rules only run on updates where the old value exists
      }
      Map<String, Object> vars = new HashMap<>();
      vars.put("self", value);
      if (transition) {
        vars.put("oldSelf", oldValue);
      }
      if (!Boolean.TRUE.equals(eval(expr, vars))) {
        String where = path.isEmpty() ? "<root>" : path;
        errors.add(where + ": Invalid value: \"object\": " + rule.path("message").asText(expr));
      }
    }
    if (value instanceof Map<?, ?> map) {
      Map<?, ?> oldMap = oldValue instanceof Map<?, ?> m ? m : Map.of();
      Iterator<Map.Entry<String, JsonNode>> props = schema.path("properties").fields();
      while (props.hasNext()) {
        Map.Entry<String, JsonNode> p = props.next();
        String child = path.isEmpty() ? p.getKey() : path + "." + p.getKey();
        evaluateRules(p.getValue(), map.get(p.getKey()), oldMap.get(p.getKey()), child, errors);
      }
    } else if (value instanceof List<?> list && schema.has("items")) {
      for (int i = 0; i < list.size(); i++) {
        evaluateRules(schema.get("items"), list.get(i), null, path + "[" + i + "]", errors);
      }
    }
  }

  private static Object eval(String expr, Map<String, Object> vars) {
    try {
      CelAbstractSyntaxTree ast = CEL.compile(expr).getAst();
      return CEL_RUNTIME.createProgram(ast).eval(vars);
    } catch (Exception e) {
      throw new IllegalStateException("CEL rule does not evaluate: " + expr, e);
    }
  }

  /** Adds additionalProperties:false to every closed object schema (strict field validation). */
  private static JsonNode strict(JsonNode schema) {
    if (schema instanceof ObjectNode node) {
      if (node.has("properties")
          && !node.has("additionalProperties")
          && !node.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
        node.put("additionalProperties", false);
      }
      node.fields().forEachRemaining(e -> strict(e.getValue()));
    } else if (schema != null && schema.isArray()) {
      schema.forEach(CrdValidator::strict);
    }
    return schema;
  }

  /** JSON to the plain Java values CEL takes: integers as Long, objects as maps. */
  private static Object toJava(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      node.fields().forEachRemaining(e -> map.put(e.getKey(), toJava(e.getValue())));
      return map;
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(n -> list.add(toJava(n)));
      return list;
    }
    if (node.isIntegralNumber()) {
      return node.asLong();
    }
    if (node.isNumber()) {
      return node.asDouble();
    }
    if (node.isBoolean()) {
      return node.asBoolean();
    }
    return node.asText();
  }
}
